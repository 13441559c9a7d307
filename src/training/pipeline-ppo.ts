/** The PPO stage (filled in once src/models/ppo lands). */
import type { Tf } from '../models/tf-backend.js';
import type { TrainingData } from './pipeline-data.js';
import type { PipelineJobSpec } from './protocol.js';
import type { StageHooks, TrainedStage } from './pipeline-stage.js';

export async function trainPpoStage(tf: Tf, data: TrainingData, spec: PipelineJobSpec, hooks: StageHooks): Promise<TrainedStage> {
  void tf;
  void data;
  void spec;
  void hooks;
  throw new Error('ppo stage is not available yet');
}
