/** What globalSetup hands to every integration test file (vitest `provide`/`inject`). */
declare module 'vitest' {
  export interface ProvidedContext {
    /** A URL for a role that may create databases (used to clone the template per test file). */
    databaseAdminUrl: string;
    /** A migrated, empty database that every test file's database is cloned from. */
    templateDatabase: string;
    /** Prefix of every database this run creates (teardown drops them all). */
    databasePrefix: string;
    redisUrl: string;
  }
}

export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}
