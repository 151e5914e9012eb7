import chalk, { Chalk, type ChalkInstance } from 'chalk';

/**
 * The chalk for stdout: chalk turns colour off for a stdout that is not a
 * terminal (and with FORCE_COLOR=0); NO_COLOR (any value but empty) turns it
 * off too, which chalk 5 itself does not check.
 */
export function stdoutPaint(env: NodeJS.ProcessEnv = process.env, level = chalk.level): ChalkInstance {
  return new Chalk({ level: env.NO_COLOR ? 0 : level });
}
