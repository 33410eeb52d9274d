-- CreateTable
CREATE TABLE "AuthFailureWindow" (
    "key" TEXT NOT NULL,
    "count" INTEGER NOT NULL,
    "resetAt" BIGINT NOT NULL,

    CONSTRAINT "AuthFailureWindow_pkey" PRIMARY KEY ("key")
);
