import { MemoryDeviceStore } from "../../src/store/memory-device-store.js";
import { deviceStoreContract } from "./device-store-contract.js";

deviceStoreContract(
  "memory",
  async () => new MemoryDeviceStore(),
  async () => {},
);
