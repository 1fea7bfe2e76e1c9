// The one list of screens. A new screen is one module in this folder (exporting `screen`, see ../types.js),
// its catalogues i18n/zh-CN/<id>.json and i18n/en/<id>.json, and one line here. The order is the navigation's.
import { screen as account } from "./account.js";
import { screen as browse, levels as browseLevels } from "./browse.js";
import { screen as documentPage } from "./document.js";
import { screen as batch } from "./batch.js";
import { screen as batches } from "./batches.js";
import { screen as retention } from "./retention.js";
import { screen as review } from "./review.js";
import { screen as sample } from "./sample.js";
import { screen as fonds, fondsTemplate } from "./fonds.js";
import { screen as alerts } from "./alerts.js";
import { screen as auditlog } from "./auditlog.js";
import { screen as backups } from "./backups.js";
import { screen as compliance } from "./compliance.js";
import { screen as logcheck } from "./logcheck.js";
import { screen as search } from "./search.js";
import { screen as signin } from "./signin.js";
import { screen as status } from "./status.js";
import { screen as userdetail } from "./userdetail.js";
import { screen as users } from "./users.js";
import { screen as verification } from "./verification.js";

/** @type {import("../types.js").Screen[]} */
export const screens = [
  signin,
  search,
  browse,
  ...browseLevels,
  documentPage,
  batches,
  batch,
  review,
  sample,
  fonds,
  fondsTemplate,
  retention,
  // the security auditor's, system administrator's and security administrator's screens
  auditlog,
  logcheck,
  alerts,
  compliance,
  status,
  backups,
  verification,
  users,
  userdetail,
  account,
];
