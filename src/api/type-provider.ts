import type { Static, TSchema } from '@sinclair/typebox';
import type { FastifyTypeProvider } from 'fastify';

/**
 * Lets Fastify infer request and reply types from TypeBox route schemas, so one object gives the
 * validation, the serialization, the OpenAPI document and the handler's types. (The few lines of
 * @fastify/type-provider-typebox that matter, without another dependency.)
 */
export interface TypeBoxTypeProvider extends FastifyTypeProvider {
  validator: this['schema'] extends TSchema ? Static<this['schema']> : unknown;
  serializer: this['schema'] extends TSchema ? Static<this['schema']> : unknown;
}
