// What the host writes beside the bundle (config.json): where the APIs and the user pool are.

export interface Config {
  httpUrl: string;
  wsUrl: string;
  region: string;
  cognito: { endpoint: string; userPoolId: string; clientId: string };
  // The local stack confirms sign-ups with any code (moto's user pool sends no e-mail).
  local?: boolean;
}

export async function loadConfig(): Promise<Config> {
  const reply = await fetch("config.json", { cache: "no-store" });
  if (!reply.ok) throw new Error(`config.json: HTTP ${reply.status}`);
  const config = (await reply.json()) as Config;
  config.httpUrl = config.httpUrl.replace(/\/+$/, "");
  if (!config.cognito.endpoint) {
    config.cognito.endpoint = `https://cognito-idp.${config.region}.amazonaws.com/`;
  }
  return config;
}
