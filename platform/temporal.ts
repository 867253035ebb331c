import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { HalflifeConfig } from './config.ts';
import { DependencyError } from './errors.ts';
import { halflifeDataConverter } from './temporal-payload-codec.ts';

/**
 * Custom search attributes halflife sets on its workflows so the Temporal UI and CLI can
 * filter monitors. The local dev server registers them at start; on your own cluster run
 * `temporal operator search-attribute create` for each (see README).
 */
export const SEARCH_ATTRIBUTES = {
  HalflifeModelId: 'Keyword',
  HalflifeHealth: 'Keyword',
  HalflifeStage: 'Keyword',
} as const;

/** The Temporal frontend halflife uses: the configured one, else the local dev server. */
export function temporalAddress(config: HalflifeConfig): string {
  return config.temporal.address ?? `127.0.0.1:${config.services.temporalPort}`;
}

export async function connectTemporal(config: HalflifeConfig): Promise<{ connection: Connection; client: Client }> {
  const address = temporalAddress(config);
  let connection: Connection;
  try {
    connection = await Connection.connect({ address, connectTimeout: 5000 });
  } catch (err) {
    throw new DependencyError(
      `Temporal at ${address} is unreachable: ${(err as Error).message}. Start it with \`halflife services up\` (or \`npm start\`), or point this command at the one running: set TEMPORAL_ADDRESS, or HALFLIFE_TEMPORAL_PORT as the daemon was started with.`,
      { cause: err },
    );
  }
  return {
    connection,
    client: new Client({
      connection,
      namespace: config.temporal.namespace,
      dataConverter: halflifeDataConverter({ compress: config.temporal.compressPayloads }),
    }),
  };
}

/**
 * Register halflife's search attributes on a server that does not have them yet (the
 * time-skipping test server, or your own cluster). The local dev server gets them at start.
 */
export async function registerSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const keyword = proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(Object.keys(SEARCH_ATTRIBUTES).map((name) => [name, keyword])),
  });
}
