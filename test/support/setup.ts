// Runs around every test file: the databases a file created are dropped when it ends.
import { afterAll } from "vitest";
import { dropCreatedDatabases } from "./database.ts";

afterAll(dropCreatedDatabases);
