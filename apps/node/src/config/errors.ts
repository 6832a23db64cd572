/** Codes of {@link ConfigError}. */
export type ConfigErrorCode = 'invalid-config';

/**
 * The configuration (file or flags) is invalid. `problems` holds one line per problem, each
 * naming where it came from and the field (`config.yaml: donateBytes: expected a size like
 * "16GiB"`, `--api: ...`). Nothing was started or changed. The CLI exits with code 2.
 */
export class ConfigError extends Error {
  readonly code: ConfigErrorCode = 'invalid-config';

  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}
