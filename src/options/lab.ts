import { commaList, type OptionTable } from './declare.ts';

// Every option of `daytime lab`; the experiments' names are checked by the lab itself
// (lab/run-lab.ts selectExperiments), which knows them, and --html's file before the run (cli/lab.ts).
export const LAB_OPTIONS = {
  only: { arg: '<ids>', help: 'run only these experiments (comma-separated)', parse: commaList },
  json: { help: 'print the report as one JSON document' },
  html: {
    arg: '<file>',
    help: 'also write a self-contained HTML report with charts to FILE',
    complete: 'file',
  },
} as const satisfies OptionTable;
