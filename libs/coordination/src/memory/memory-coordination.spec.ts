import { describeCoordinationContract } from '../coordination.contract';
import { createMemoryCoordination } from './memory-coordination.factory';

describeCoordinationContract('memory', async () => {
  const coordination = createMemoryCoordination();
  return { coordination, dispose: () => coordination.close() };
});
