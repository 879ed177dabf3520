// The user pool's public API (what Amplify calls underneath): sign up, confirm, sign in and
// refresh, as JSON over HTTPS with the app client's id. No AWS credentials are involved.

import type { Config } from "./config";

export interface Session {
  username: string;
  idToken: string;
  refreshToken: string;
  expiresAt: number; // ms since the epoch
}

export class CognitoError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const FRIENDLY: Record<string, string> = {
  NotAuthorizedException: "Wrong username or password.",
  UserNotFoundException: "Wrong username or password.",
  UsernameExistsException: "That username is taken.",
  CodeMismatchException: "That code is not right.",
  TooManyRequestsException: "Too many attempts: wait a minute and try again.",
  LimitExceededException: "Too many attempts: wait a minute and try again.",
};

export class UserPool {
  constructor(private readonly config: Config) {}

  private async call(action: string, body: Record<string, unknown>): Promise<any> {
    let reply: Response;
    try {
      reply = await fetch(this.config.cognito.endpoint, {
        method: "POST",
        headers: {
          "content-type": "application/x-amz-json-1.1",
          "x-amz-target": `AWSCognitoIdentityProviderService.${action}`,
        },
        body: JSON.stringify(body),
      });
    } catch {
      throw new CognitoError("NetworkError", "Cannot reach the sign-in service.");
    }
    const text = await reply.text();
    const document = text ? JSON.parse(text) : {};
    if (!reply.ok) {
      const code = String(document.__type ?? "Error").split("#").pop() ?? "Error";
      throw new CognitoError(code, FRIENDLY[code] ?? document.message ?? `Sign-in failed (${code}).`);
    }
    return document;
  }

  async signUp(username: string, password: string, email: string, name: string): Promise<boolean> {
    const attributes = [{ Name: "email", Value: email }];
    if (name) attributes.push({ Name: "name", Value: name });
    const reply = await this.call("SignUp", {
      ClientId: this.config.cognito.clientId,
      Username: username,
      Password: password,
      UserAttributes: attributes,
    });
    return Boolean(reply.UserConfirmed);
  }

  async confirm(username: string, code: string): Promise<void> {
    await this.call("ConfirmSignUp", {
      ClientId: this.config.cognito.clientId,
      Username: username,
      ConfirmationCode: code,
    });
  }

  async signIn(username: string, password: string): Promise<Session> {
    const reply = await this.call("InitiateAuth", {
      ClientId: this.config.cognito.clientId,
      AuthFlow: "USER_PASSWORD_AUTH",
      AuthParameters: { USERNAME: username, PASSWORD: password },
    });
    const result = reply.AuthenticationResult;
    if (!result) throw new CognitoError("ChallengeRequired", "This account needs a step this client does not support.");
    return {
      username,
      idToken: result.IdToken,
      refreshToken: result.RefreshToken,
      expiresAt: Date.now() + Number(result.ExpiresIn ?? 3600) * 1000,
    };
  }

  async refresh(session: Session): Promise<Session> {
    const reply = await this.call("InitiateAuth", {
      ClientId: this.config.cognito.clientId,
      AuthFlow: "REFRESH_TOKEN_AUTH",
      AuthParameters: { REFRESH_TOKEN: session.refreshToken },
    });
    const result = reply.AuthenticationResult;
    return {
      ...session,
      idToken: result.IdToken,
      expiresAt: Date.now() + Number(result.ExpiresIn ?? 3600) * 1000,
    };
  }
}
