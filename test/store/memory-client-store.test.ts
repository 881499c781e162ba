import { MemoryClientStore } from "../../src/store/memory-client-store.js";
import { clientStoreContract } from "./client-store-contract.js";

const store = new MemoryClientStore(Date.now, 50);

clientStoreContract(
  "memory",
  async () => store,
  async () => {},
);
