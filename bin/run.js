#!/usr/bin/env node
// The cmg executable when run from a checkout or an npm install (the single binary has its own entry).
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });
