import { Redis } from 'ioredis';

/** One section of Redis's INFO, read with ioredis (the driver BullMQ uses here too). */
export async function redisInfo(url: string, section: 'stats' | 'server'): Promise<string> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    return await client.info(section);
  } finally {
    client.disconnect();
  }
}
