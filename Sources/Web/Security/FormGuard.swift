import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// Cross-site request forgery protection for every form: a signed double-submit cookie, and the browser's
/// own word on where a request comes from (`Sec-Fetch-Site`, `Origin`).
///
/// The cookie holds a random nonce; each form carries the nonce's MAC under the database's key. A page on
/// another site can neither read the cookie nor make the MAC, and a cookie planted from elsewhere comes
/// without its MAC.
struct FormGuard: Sendable {
    static let cookieName = "appeal_form"
    static let fieldName = "csrf_token"

    /// The database's `web` key.
    let key: Data
    /// `scheme://host[:port]` of `web.baseURL`: the only `Origin` accepted.
    let origin: String
    let secureCookies: Bool

    /// The token to put in the page's forms, and the cookie to set when the visitor has none yet.
    func token(for request: Request) -> (token: String, cookies: [Cookie]) {
        if let nonce = request.cookies[Self.cookieName]?.value, SecretToken.isWellFormed(nonce) {
            return (mac(nonce), [])
        }
        let nonce = SecretToken.make()
        let cookie = Cookie(name: Self.cookieName, value: nonce, path: "/", secure: secureCookies, httpOnly: true, sameSite: .strict)
        return (mac(nonce), [cookie])
    }

    /// Whether a form submission comes from one of our pages.
    func admits(_ request: Request, form: FormValues) -> Bool {
        // A form post comes from one of our pages: `same-origin`, nothing else (`none` is a typed address).
        if let site = request.headers[.secFetchSite], site != "same-origin" { return false }
        if let origin = request.headers[.origin], origin != self.origin { return false }
        guard let nonce = request.cookies[Self.cookieName]?.value, SecretToken.isWellFormed(nonce),
              let token = form[Self.fieldName] else { return false }
        return SecretToken.constantTimeEqual(Array(mac(nonce).utf8), Array(token.utf8))
    }

    private func mac(_ nonce: String) -> String {
        SecretToken.base64URL(Data(HMAC<SHA256>.authenticationCode(for: Data(("form|" + nonce).utf8), using: SymmetricKey(data: key))))
    }
}

extension HTTPField.Name {
    static let secFetchSite = Self("Sec-Fetch-Site")!
}
