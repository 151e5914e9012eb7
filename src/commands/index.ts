import ConfigCheck from './config/check.js';

/** Every command of cmg, by oclif id (topics joined with ':'). Explicit, so the single binary needs no file scan. */
export const COMMANDS = {
  'config:check': ConfigCheck,
};
