import { describe, expect, it } from "vitest";
import { InvalidInput } from "../../../src/domain/errors.ts";
import { checkTargetDatabaseName, checkTargetInstance } from "../../../src/domain/restores/targetRules.ts";

describe("target database names (R15)", () => {
  const rejects = (source: string, target: string) => {
    try {
      checkTargetDatabaseName(source, target);
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInput);
      expect((error as InvalidInput).issues[0]!.path).toEqual(["input", "targetDatabaseName"]);
      return (error as Error).message;
    }
    throw new Error(`expected ${source} -> ${target} to be refused`);
  };

  it("R15: accepts SYSTEMDB as SYSTEMDB and valid tenant names", () => {
    expect(() => checkTargetDatabaseName("SYSTEMDB", "SYSTEMDB")).not.toThrow();
    expect(() => checkTargetDatabaseName("HXE", "HXE_COPY2")).not.toThrow();
    expect(() => checkTargetDatabaseName("HXE", "A".repeat(127))).not.toThrow();
  });

  it("R15: SYSTEMDB is never renamed, and a tenant is never restored into SYSTEMDB", () => {
    expect(rejects("SYSTEMDB", "HXE")).toContain("SYSTEMDB can only be restored as SYSTEMDB");
    expect(rejects("HXE", "SYSTEMDB")).toContain("can not be restored into SYSTEMDB");
  });

  it("R15: tenant names: a letter first, then letters, digits or _, at most 127, never _SYS_", () => {
    rejects("HXE", "1ABC");
    rejects("HXE", "AB-C");
    rejects("HXE", "");
    rejects("HXE", "A".repeat(128));
    expect(rejects("HXE", "_SYS_X")).toContain("_SYS_");
  });
});

describe("target instance (R11)", () => {
  const instance = { id: "t", sid: "DR1", regionId: "cn-shanghai", status: "INITIALIZED" };

  it("R11: the target instance must be in the mirror vault's region", () => {
    expect(() => checkTargetInstance(instance, { regionId: "cn-shanghai" })).not.toThrow();
    const error = (() => {
      try {
        checkTargetInstance(instance, { regionId: "cn-beijing" });
      } catch (e) {
        return e as InvalidInput;
      }
    })();
    expect(error).toBeInstanceOf(InvalidInput);
    expect(error!.issues[0]!.path).toEqual(["input", "targetInstanceId"]);
    expect(error!.message).toContain("mirror's region cn-beijing");
  });

  it("R11: the target instance must be INITIALIZED", () => {
    expect(() => checkTargetInstance({ ...instance, status: "INITIALIZING" }, { regionId: "cn-shanghai" })).toThrow(
      /INITIALIZING; wait until it is INITIALIZED/,
    );
  });
});
