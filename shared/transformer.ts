import superjson from 'superjson';

/** The data transformer both ends of the tRPC link must agree on (Dates, Maps, BigInts survive). */
export const transformer = superjson;
