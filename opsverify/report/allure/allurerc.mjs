// Allure 3 configuration used by `opsverify report` (docs/reports.md). Paths come from the environment
// `opsverify report` sets; run by hand in a reports/ folder it reads allure-results/ and writes allure-report/.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const env = process.env;
const results = env.OPSVERIFY_ALLURE_RESULTS ?? "allure-results";
const categoriesFile = join(results, "categories.json");

export default {
  name: env.OPSVERIFY_REPORT_NAME ?? "opsverify",
  output: env.OPSVERIFY_ALLURE_OUTPUT ?? "allure-report",
  // One line per generated report: the trends (pass rate, durations of checks and drills) across runs.
  historyPath: env.OPSVERIFY_ALLURE_HISTORY ?? "history/allure-history.jsonl",
  // opsverify writes categories.json (target unreachable, timeout, assertion, backup, restore) with every run.
  categories: existsSync(categoriesFile) ? JSON.parse(readFileSync(categoriesFile, "utf8")) : undefined,
  plugins: {
    awesome: {
      options: {
        reportName: env.OPSVERIFY_REPORT_NAME ?? "opsverify",
        singleFile: env.OPSVERIFY_SINGLE_FILE === "1",
        reportLanguage: "en",
        groupBy: ["epic", "feature", "story"],
      },
    },
  },
};
