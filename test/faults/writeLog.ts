// Preloaded into the fault suite's worker processes (`--import`): every object a FileMedium puts (after it landed:
// renamed into place) is appended to FAULT_WRITE_LOG as "<dir>\t<key>", so the suite can count how many times each
// pack, index, loose chunk and manifest of a region was written. Test-only: the product's storage is untouched.
import { appendFileSync } from "node:fs";
import { FileMedium } from "../../src/storage/fileMedium.ts";

const target = process.env.FAULT_WRITE_LOG;
const patched = Symbol.for("mvg.faults.writeLog");
const proto = FileMedium.prototype as FileMedium & { [patched]?: boolean };
if (target && !proto[patched]) {
  proto[patched] = true;
  // `put` is one object through `putAll`: wrapping `putAll` sees every object once.
  const putAll = proto.putAll;
  proto.putAll = async function (this: FileMedium, objects, signal) {
    await putAll.call(this, objects, signal);
    appendFileSync(target, objects.map(({ key }) => `${this.dir}\t${key}\n`).join(""));
  };
}
