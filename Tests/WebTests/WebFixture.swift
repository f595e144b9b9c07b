import Appeals
@testable import AppealsPostgres
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Synchronization
import TestSupport
import Testing
@testable import Web

/// A database with the example campaign, a web server on it with a clock the test moves, and a browser-like
/// client that keeps cookies and reads the forms' CSRF tokens. On `.postgres` the database is a new one of the
/// tests' PostgreSQL server, and the server's store is PostgreSQL's.
final class WebFixture: Sendable {
    static let secret = "correct horse battery staple"
    static let slug = TestDatabase.slug

    let kind: StoreKind
    /// The SQLite file (on `.postgres`, a folder for the outbox and nothing else).
    let store: TestDatabase
    let server: WebServer
    private let postgres: HeldPostgresStore?
    private let clock = TestClock()

    init(_ kind: StoreKind = .sqlite, adminSecret: String? = WebFixture.secret, configure: (inout AppConfig) -> Void = { _ in }) async throws {
        self.kind = kind
        store = try TestDatabase()
        let clock = self.clock
        var config = AppConfig()
        config.web.baseURL = "https://appeals.example.org"
        config.smtp.url = "file://" + store.folder.appendingPathComponent("outbox").path
        configure(&config)
        let webStore: any WebStore
        if kind == .postgres {
            let held = try await HeldPostgresStore.open()
            try await held.store.makeKeys()
            _ = try await held.store.createCampaign(try CampaignFolder(path: Fixtures.exampleCampaign, now: TestDatabase.fixedNow))
            postgres = held
            webStore = held.store
        } else {
            try store.createExampleCampaign()
            postgres = nil
            webStore = SQLiteWebStore(database: store.database)
        }
        server = try await WebServer(store: webStore, config: config, adminSecret: adminSecret, now: { clock.now }, logger: Logger(label: "test"))
    }

    func advance(hours: Double) {
        clock.advance(hours * 3600)
    }

    /// Runs `body` against the router, as `app.test(.router)` does.
    @discardableResult
    func test<T: Sendable>(_ body: @Sendable (Browser) async throws -> T) async throws -> T {
        let app = Application(router: server.router())
        return try await app.test(.router) { client in try await body(Browser(client: client)) }
    }

    /// The rows `sql` selects, by column name, from either store (`sql` in both dialects).
    func rows(_ sql: String) async throws -> [Row] {
        guard let postgres else { return try await store.database.writer.read { db in try Row.fetchAll(db, sql: sql) } }
        return try await postgres.rows(sql)
    }

    /// Runs `sql` (in both dialects: no `?` arguments; dates as ``literal(_:)``).
    func execute(_ sql: String) async throws {
        guard let postgres else { return try await store.database.writer.write { db in try db.execute(sql: sql) } }
        _ = try await postgres.rows(sql)
    }

    /// `date` as an SQL literal the store reads as that time.
    func literal(_ date: Date) -> String {
        if postgres == nil, case .string(let text) = date.databaseValue.storage { return "'\(text)'" }
        return "'\(ISO8601DateFormatter().string(from: date))'"
    }

    func count(_ table: String) async throws -> Int {
        try await rows("SELECT count(*) AS n FROM \(table)").first.map { $0["n"] as Int } ?? 0
    }

    /// The row counts of `tables`, in order.
    func counts(_ tables: String...) async throws -> [Int] {
        var counts: [Int] = []
        for table in tables { counts.append(try await count(table)) }
        return counts
    }

    /// The confirmation emails in the outbox, oldest first.
    func outbox() async throws -> [String] {
        try await rows("SELECT message FROM outbox ORDER BY id").map { String(decoding: $0["message"] as Data, as: UTF8.self) }
    }

    /// The token of the last confirmation link in the outbox, read from the email as Python's parser decodes it.
    func lastToken() async throws -> String {
        let message = try PythonEmail.parse(try #require(try await outbox().last))
        let range = try #require(message.body.range(of: #"https://appeals\.example\.org/confirm/[A-Za-z0-9_-]{43}"#, options: .regularExpression))
        return String(message.body[range].suffix(43))
    }

    /// Imports a supporters fixture file into the example campaign.
    func importSupporters(_ fixture: String) async throws {
        let table = try CSVTable(file: fixture, bytes: Fixtures.bytes(fixture), known: Supporter.csvColumns, required: Supporter.csvRequiredColumns)
        guard let postgres else { return _ = try store.database.importSupporters(table, campaign: Self.slug, now: TestDatabase.fixedNow) }
        _ = try await postgres.store.importSupporters(table, campaign: Self.slug, now: TestDatabase.fixedNow)
    }

    func queue() async throws {
        guard let postgres else { return _ = try await store.queue() }
        let ids = MessageIDGenerator { "<test-\(UUID().uuidString)@example.org>" }
        _ = try await postgres.store.queueLetters(campaign: Self.slug, messageIDs: ids, now: TestDatabase.fixedNow, timeZone: TimeZone(identifier: "UTC")!)
    }

    func campaign() async throws -> Campaign {
        guard let postgres else { return try store.database.campaign(Self.slug) }
        return try await postgres.store.campaign(Self.slug)
    }

    func setStatus(_ status: CampaignStatus) async throws {
        guard let postgres else { return _ = try store.database.setStatus(status, ofCampaign: Self.slug) }
        _ = try await postgres.store.setStatus(status, ofCampaign: Self.slug)
    }

    func report() async throws -> CampaignReport {
        guard let postgres else { return try store.database.report(campaign: Self.slug) }
        return try await postgres.store.report(campaign: Self.slug)
    }

    func eraseSupporter(email: String) async throws {
        guard let postgres else { return _ = try store.database.eraseSupporter(email: email, campaign: Self.slug) }
        _ = try await postgres.store.eraseSupporter(email: email, campaign: Self.slug)
    }
}

/// A PostgreSQL store kept open for a test: a new database of the tests' server, its connections held by a task
/// of their own until the holder is released.
final class HeldPostgresStore: Sendable {
    let store: PostgresStore
    private let release: AsyncStream<Void>.Continuation

    private init(store: PostgresStore, release: AsyncStream<Void>.Continuation) {
        self.store = store
        self.release = release
    }

    deinit { release.finish() }

    static func open() async throws -> HeldPostgresStore {
        let server = try PostgresInstance.shared()
        let name = "web_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try server.createDatabase(name)
        let location = try PostgresLocation(url: server.url(name), field: InputLocation(file: "test"))
        let (released, release) = AsyncStream<Void>.makeStream()
        let (opened, open) = AsyncThrowingStream<PostgresStore, any Error>.makeStream()
        Task {
            do {
                try await PostgresStore.withStore(location, password: nil, create: true, connections: 10) { store throws(AppealsError) in
                    open.yield(store)
                    for await _ in released {}
                }
                open.finish()
            } catch {
                open.finish(throwing: error)
            }
        }
        for try await store in opened { return HeldPostgresStore(store: store, release: release) }
        throw AppealsError.storage("the PostgreSQL store did not open")
    }

    /// The rows `sql` selects, as GRDB rows by column name.
    func rows(_ sql: String) async throws -> [Row] {
        let logger = store.logger
        return try await store.client.withConnection { connection in
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).collect().map { try $0.grdbRow() }
        }
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
