"""Signing the merchant's users in with Cognito's InitiateAuth
(USER_PASSWORD_AUTH), server to server.

The role comes from the ``cognito:groups`` claim of the ID token. We read
the token's claims without checking its signature: it came in the response
to our own TLS call to Cognito's endpoint, which OpenID Connect allows in
place of the signature check (OIDC Core 1.0, section 3.1.3.7, step 6: "the
TLS server validation MAY be used to validate the issuer in place of
checking the token signature"). We do check that it is an ID token for our
app client. Nothing of the token is kept: the session is ours
(services/back_office.py), and signing out ends the user's Cognito tokens
with AdminUserGlobalSignOut.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.domain.errors import SignInFailed, TemporarilyUnavailable
from chalicelib.services.ports import SignedIn

#: Cognito's answers to a wrong address or password, or a user who may not sign in now.
_REFUSED = {
    "NotAuthorizedException",
    "UserNotFoundException",
    "UserNotConfirmedException",
    "PasswordResetRequiredException",
    "InvalidParameterException",
}
_BUSY = {"TooManyRequestsException", "LimitExceededException", "InternalErrorException"}


def claims_of(id_token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified (see the module's docstring)."""
    try:
        payload = id_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError) as exc:
        raise SignInFailed("the address or the password is wrong") from exc
    if not isinstance(claims, dict):
        raise SignInFailed("the address or the password is wrong")
    return claims


class CognitoStaff:
    def __init__(self, client: Any, *, user_pool_id: str, client_id: str) -> None:
        self._client = client
        self._pool = user_pool_id
        self._client_id = client_id

    def sign_in(self, username: str, password: str) -> SignedIn:
        try:
            answer = self._client.initiate_auth(
                ClientId=self._client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password},
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in _REFUSED:
                raise SignInFailed("the address or the password is wrong") from None
            if code in _BUSY:
                raise TemporarilyUnavailable("the sign-in service is busy; try again") from None
            raise
        result = answer.get("AuthenticationResult")
        if result is None:
            # A challenge (a new password, MFA): not offered by this back office yet.
            raise SignInFailed(
                "this account must finish its setup first", challenge=answer.get("ChallengeName")
            )
        claims = claims_of(result["IdToken"])
        if claims.get("token_use") != "id" or claims.get("aud") != self._client_id:
            raise SignInFailed("the address or the password is wrong")
        groups = claims.get("cognito:groups") or []
        return SignedIn(
            subject=str(claims["sub"]),
            username=str(claims.get("cognito:username") or username),
            groups=tuple(str(g) for g in groups),
            email=str(claims.get("email") or username),
        )

    def sign_out_everywhere(self, username: str) -> None:
        try:
            self._client.admin_user_global_sign_out(UserPoolId=self._pool, Username=username)
        except ClientError as exc:
            # A user deleted meanwhile has no tokens left to end.
            if exc.response.get("Error", {}).get("Code") != "UserNotFoundException":
                raise
