/**
 * Logging: pino to stderr (fd 2, synchronous, so lines survive process exit and never interleave),
 * leaving stdout to results and JSON. Level from POSTCOPY_SIM_LOG (default warn). Nothing on the
 * fault path logs; phases and summaries log at debug.
 */
import { pino } from 'pino';

export const log = pino({ name: 'postcopy-sim', level: process.env.POSTCOPY_SIM_LOG ?? 'warn', base: undefined }, pino.destination({ fd: 2, sync: true }));
