/**
 * The composition root of the `ferry` command (bin/ferry loads this file): the operator's
 * commands from client/, plus the commands that run on a worker or lab machine. Nothing imports it.
 */
import { runCli } from '../client/cli';

void runCli(process.argv);
