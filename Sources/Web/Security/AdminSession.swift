import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// The organizers' session: a cookie holding its expiry and a MAC over it and the secret's hash, so that it
/// works on every server sharing the database, and changing the secret ends every session.
struct AdminSession: Sendable {
    static let cookieName = "appeal_admin"
    static let lifetime: TimeInterval = 12 * 3600

    /// The database's `web` key.
    let key: Data
    /// SHA-256 of the secret from `web.adminSecretEnv`; `nil` when it is not set: the dashboard is closed.
    let secretHash: Data?

    var isEnabled: Bool { secretHash != nil }

    /// Whether `given` is the secret; the comparison takes the same time wherever they differ.
    func isSecret(_ given: String) -> Bool {
        guard let secretHash else { return false }
        return SecretToken.constantTimeEqual(Array(SHA256.hash(data: Data(given.utf8))), Array(secretHash))
    }

    func cookie(now: Date) -> Cookie {
        let expires = Int(now.addingTimeInterval(Self.lifetime).timeIntervalSince1970)
        return Cookie(name: Self.cookieName, value: "\(expires).\(mac(expires))", maxAge: Int(Self.lifetime), path: "/admin",
                      secure: true, httpOnly: true, sameSite: .strict)
    }

    static var loggedOut: Cookie {
        Cookie(name: cookieName, value: "", maxAge: 0, path: "/admin", secure: true, httpOnly: true, sameSite: .strict)
    }

    func admits(_ request: Request, now: Date) -> Bool {
        guard secretHash != nil, let value = request.cookies[Self.cookieName]?.value else { return false }
        let parts = value.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, let expires = Int(parts[0]), Double(expires) > now.timeIntervalSince1970 else { return false }
        return SecretToken.constantTimeEqual(Array(mac(expires).utf8), Array(parts[1].utf8))
    }

    private func mac(_ expires: Int) -> String {
        var data = Data("admin|\(expires)|".utf8)
        data.append(secretHash ?? Data())
        return SecretToken.base64URL(Data(HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: key))))
    }
}
