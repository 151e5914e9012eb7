import CertsCaCreate from './certs/ca/create.js';
import CertsCrl from './certs/crl.js';
import CertsInspect from './certs/inspect.js';
import CertsIssue from './certs/issue.js';
import CertsLab from './certs/lab.js';
import CertsManagementCreate from './certs/management/create.js';
import CertsPfx from './certs/pfx.js';
import CertsRootsExport from './certs/roots/export.js';
import CertsVerify from './certs/verify.js';
import CertsWebCheck from './certs/web/check.js';
import CertsWebRequest from './certs/web/request.js';
import ConfigCheck from './config/check.js';
import Connect from './connect.js';
import Demo from './demo.js';
import DeployCreate from './deploy/create.js';
import DeployDelete from './deploy/delete.js';
import DeployPlan from './deploy/plan.js';
import DeployScale from './deploy/scale.js';
import DeployStart from './deploy/start.js';
import DeployStatus from './deploy/status.js';
import DeployStop from './deploy/stop.js';
import Logs from './logs.js';
import Serve from './serve.js';
import Status from './status.js';

/** Every command of cmg, by oclif id (topics joined with ':'). Explicit, so the single binary needs no file scan. */
export const COMMANDS = {
  'certs:ca:create': CertsCaCreate,
  'certs:crl': CertsCrl,
  'certs:inspect': CertsInspect,
  'certs:issue': CertsIssue,
  'certs:lab': CertsLab,
  'certs:management:create': CertsManagementCreate,
  'certs:pfx': CertsPfx,
  'certs:roots:export': CertsRootsExport,
  'certs:verify': CertsVerify,
  'certs:web:check': CertsWebCheck,
  'certs:web:request': CertsWebRequest,
  'config:check': ConfigCheck,
  connect: Connect,
  demo: Demo,
  'deploy:create': DeployCreate,
  'deploy:delete': DeployDelete,
  'deploy:plan': DeployPlan,
  'deploy:scale': DeployScale,
  'deploy:start': DeployStart,
  'deploy:status': DeployStatus,
  'deploy:stop': DeployStop,
  logs: Logs,
  serve: Serve,
  status: Status,
};
