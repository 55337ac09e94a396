import { EXIT, main, printError } from './main.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    printError(err, process.argv.includes('--debug'));
    process.exitCode = EXIT.usage;
  },
);
