import Appeals
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import TestSupport
import Testing
@testable import Web

/// A database with the example campaign, a web server on it with a clock the test moves, and a browser-like
/// client that keeps cookies and reads the forms' CSRF tokens.
final class WebFixture: Sendable {
    static let secret = "correct horse battery staple"
    static let slug = TestDatabase.slug

    let store: TestDatabase
    let server: WebServer
    private let clock = TestClock()

    init(adminSecret: String? = WebFixture.secret, configure: (inout AppConfig) -> Void = { _ in }) async throws {
        store = try TestDatabase()
        try store.createExampleCampaign()
        let clock = self.clock
        var config = AppConfig()
        config.web.baseURL = "https://appeals.example.org"
        config.smtp.url = "file://" + store.folder.appendingPathComponent("outbox").path
        configure(&config)
        server = try await WebServer(store: SQLiteWebStore(database: store.database), config: config, adminSecret: adminSecret,
                                     now: { clock.now }, logger: Logger(label: "test"))
    }

    var database: AppDatabase { store.database }

    func advance(hours: Double) {
        clock.advance(hours * 3600)
    }

    /// Runs `body` against the router, as `app.test(.router)` does.
    @discardableResult
    func test<T: Sendable>(_ body: @Sendable (Browser) async throws -> T) async throws -> T {
        let app = Application(router: server.router())
        return try await app.test(.router) { client in try await body(Browser(client: client)) }
    }

    func count(_ table: String) throws -> Int { try store.count(table) }

    /// The confirmation emails in the outbox, oldest first.
    func outbox() throws -> [String] {
        try database.writer.read { db in try Data.fetchAll(db, sql: "SELECT message FROM outbox ORDER BY id") }
            .map { String(decoding: $0, as: UTF8.self) }
    }

    /// The token of the last confirmation link in the outbox, read from the email as Python's parser decodes it.
    func lastToken() throws -> String {
        let message = try PythonEmail.parse(try #require(outbox().last))
        let range = try #require(message.body.range(of: #"https://appeals\.example\.org/confirm/[A-Za-z0-9_-]{43}"#, options: .regularExpression))
        return String(message.body[range].suffix(43))
    }
}

/// A client that keeps cookies like a browser and fills forms from the page's HTML.
final class Browser: Sendable {
    let client: any TestClientProtocol
    private let cookies = Mutex<[String: String]>([:])

    init(client: any TestClientProtocol) {
        self.client = client
    }

    struct Page: Sendable {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let html: String

        /// The value of the first `csrf_token` field.
        var csrf: String? {
            html.range(of: #"name="csrf_token" value="[^"]*""#, options: .regularExpression).map {
                String(html[$0].dropFirst(#"name="csrf_token" value=""#.count).dropLast())
            }
        }

        var location: String? { headers[.location] }
    }

    @discardableResult
    func get(_ uri: String, headers: HTTPFields = [:]) async throws -> Page {
        try await send(uri, method: .get, headers: headers, body: nil)
    }

    /// Posts `fields`, URL-encoded, adding the page's CSRF token unless `fields` has one.
    @discardableResult
    func post(_ uri: String, _ fields: [(String, String)], csrf: String?, headers: HTTPFields = [:]) async throws -> Page {
        var all = fields
        if let csrf, !fields.contains(where: { $0.0 == "csrf_token" }) { all.append(("csrf_token", csrf)) }
        var headers = headers
        headers[.contentType] = "application/x-www-form-urlencoded"
        return try await send(uri, method: .post, headers: headers, body: Self.encode(all))
    }

    func send(_ uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: String?) async throws -> Page {
        var headers = headers
        let jar = cookies.withLock { $0 }
        if !jar.isEmpty, headers[.cookie] == nil { headers[.cookie] = jar.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        let response = try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
        for field in response.headers[values: .setCookie] {
            let pair = field.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
            let name = String(pair[0]), value = pair.count > 1 ? String(pair[1]) : ""
            cookies.withLock { $0[name] = value.isEmpty ? nil : value }
        }
        return Page(status: response.status, headers: response.headers, html: String(buffer: response.body))
    }

    func clearCookies() { cookies.withLock { $0 = [:] } }

    static func encode(_ fields: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&")
    }
}

/// A supporter's form as a person fills it in.
func supporterFields(name: String = "Ana Martins", email: String = "ana@example.com", country: String = "FR", city: String = "Lyon",
                     language: String = "fr", note: String = "Please free him.", consent: Bool = true) -> [(String, String)] {
    var fields = [("name", name), ("email", email), ("country", country), ("city", city), ("language", language), ("personal_note", note),
                  ("website", "")]
    if consent { fields.append(("consent", "yes")) }
    return fields
}

extension String {
    /// The text of HTML with its five escaped characters put back, to compare with plain text.
    var htmlUnescaped: String {
        replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&quot;", with: "\"")
            .replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
    }

    func occurrences(of text: String) -> Int { components(separatedBy: text).count - 1 }
}

/// A time that only the test moves.
final class TestClock: Sendable {
    private let value = Mutex(TestDatabase.fixedNow)

    var now: Date { value.withLock { $0 } }

    func advance(_ seconds: TimeInterval) {
        value.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}
