export {
  buildObservation,
  observationSize,
  PORTFOLIO_FEATURES,
  PPO_ACTION_RETURNS,
  PPO_ACTIONS,
  PpoInputError,
  TradingEnv,
  validateEnvData,
  type PortfolioState,
  type PpoAction,
  type PpoEnvData,
} from './env.js';
export {
  buildActor,
  buildCritic,
  ObservationShapeError,
  PpoAgent,
  PpoMetadataError,
  validateMetadata,
  type PpoDecision,
  type PpoMetadata,
  type SerializedPpoAgent,
} from './agent.js';
export { gae, trainPpo, type PpoHooks, type PpoParams, type PpoUpdateInfo } from './train.js';
