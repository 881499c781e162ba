import { MemoryTokenStore } from "../../src/store/memory-token-store.js";
import { tokenStoreContract } from "./token-store-contract.js";

tokenStoreContract(
  "memory",
  async () => new MemoryTokenStore(Date.now, 50),
  async () => {},
);
