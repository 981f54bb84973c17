// Package token owns berth's JWTs: the identity tokens of the management
// plane and the registry refresh and access tokens of the data plane. It
// issues them, verifies them, rotates the keys that sign them and writes the
// Docker Bearer challenge that sends a client to get one.
//
// It must not know HTTP routes, SQL or the metadata store: keys reach it
// through KeyStore, and the /oauth2 endpoints and the data-plane Bearer check
// are built on it elsewhere. It does not know either whether the principal
// behind a valid token has since been disabled, or its credential revoked:
// Verify proves that berth issued the token and that it is in date, and the
// caller checks the principal (Claims.Subject, Claims.ID) against its store.
//
// Tokens are signed with HS256 (HMAC-SHA256), not with a public-key
// algorithm. Only berth verifies its tokens: docker and the other clients
// treat them as opaque strings, and the replicas share the keys through the
// metadata store anyway, so a public key would buy nothing. A MAC costs a
// microsecond to check where an RSA or ECDSA signature costs tens, which
// matters because every data-plane request checks one.
package token
