-- DropTable
DROP TABLE "SimDatabase";

-- DropTable
DROP TABLE "SimRow";

-- DropTable
DROP TABLE "SimCommit";
