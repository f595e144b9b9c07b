import Appeals
@testable import AppealsPostgres
import Foundation
import GRDB
import Testing
import TestSupport
@testable import Mailer

/// A campaign with two supporters (in Germany and Belgium): ten letters, one per official and embassy.
///
/// On `.postgres`, each send runs on a new database of a private PostgreSQL server holding a copy of the file
/// (`db copy`), and what sending changed (letters, attempts, targets) is brought back into the file: every
/// assertion reads the file, whichever store sent.
struct DeliveryFixture {
    let store: TestDatabase
    var config = AppConfig()
    let kind: StoreKind
    let postgres: PostgresInstance?
    /// 12:06 UTC: inside 08:00-20:00 for every target of the fixture (Baku, Berlin, Brussels).
    static let sendTime = TestDatabase.fixedNow.addingTimeInterval(3600)

    init(server: SMTPTestServer?, url: String? = nil, kind: StoreKind = .sqlite) async throws {
        store = try TestDatabase()
        self.kind = kind
        postgres = kind == .postgres ? try PostgresInstance.shared() : nil
        try store.createExampleCampaign()
        _ = try store.importSupporters("supporters-crlf.csv")
        _ = try await store.queue()
        config.smtp.url = url ?? server?.url ?? ""
        config.smtp.security = .none
        config.smtp.timeoutSeconds = 5
        config.smtp.connections = 2
        config.limits.messagesPerSecond = 0
    }

    func send(password: String? = nil, at time: Date = Self.sendTime, options: SendOptions = SendOptions()) async throws -> SendSummary {
        let transport = try config.makeTransport(environment: password.map { ["APPEAL_SMTP_PASSWORD": $0] } ?? [:])
        let config = config
        return try await withDeliveryStore { store in
            try await Dispatcher(store: store, config: config, transport: transport, now: { time }).run(options)
        }
    }

    /// Runs `body` with the store under test.
    func withDeliveryStore<T: Sendable>(_ body: @escaping @Sendable (any DeliveryStore) async throws -> T) async throws -> T {
        guard let postgres else { return try await body(store.database) }
        let name = "run_\(UUID().uuidString.prefix(8).lowercased())"
        try postgres.createDatabase(name)
        let location = try PostgresLocation(url: postgres.url(name), field: InputLocation(file: "test"))
        let database = store.database
        // The pool as `send` has it: one per SMTP connection and one more for the notes, beside its 3.
        let result = try await PostgresStore.withStore(location, password: nil, create: true,
                                                       connections: 3 + AppConfig().smtp.connections + 1) { pg throws(AppealsError) -> Result<T, any Error> in
            _ = try await DatabaseCopy.copy(from: database, to: pg, policy: RetryPolicy(AppConfig().limits))
            let result: Result<T, any Error>
            do { result = .success(try await body(PostgresDeliveryStore(pg))) } catch { result = .failure(error) }
            do {
                try await Self.mirror(pg, into: database)
            } catch {
                throw .storage("cannot bring PostgreSQL's state back: \(error)")
            }
            return result
        }
        return try result.get()
    }

    /// Writes what sending changes on PostgreSQL (letters, attempts, targets) into the file.
    static func mirror(_ pg: PostgresStore, into database: AppDatabase) async throws {
        let letters = try await pg.client.withConnection { connection in
            try await PostgresDeliveryStore.records(Letter.self, "SELECT \(unescaped: PostgresDeliveryStore.columns("letter")) FROM letter",
                                                    on: connection, logger: pg.logger)
        }
        let targets = try await pg.client.withConnection { connection in
            try await PostgresDeliveryStore.records(Target.self, "SELECT \(unescaped: PostgresDeliveryStore.columns("target")) FROM target",
                                                    on: connection, logger: pg.logger)
        }
        var rows: [[any DatabaseValueConvertible & Sendable]] = []
        for try await (letter, at, code, reply, outcome) in try await pg.client.query(
            "SELECT letter_id, attempted_at, code, reply, outcome FROM delivery_attempt ORDER BY id", logger: pg.logger
        ).decode((Int64, Date, Int?, String, String).self) {
            rows.append([letter, at, code.map { Int64($0) } ?? DatabaseValue.null, reply, outcome])
        }
        let attempts = rows
        try await database.writer.write { db in
            for letter in letters { try letter.update(db) }
            for target in targets { try target.update(db) }
            try db.execute(sql: "DELETE FROM delivery_attempt")
            for attempt in attempts {
                try db.execute(sql: "INSERT INTO delivery_attempt (letter_id, attempted_at, code, reply, outcome) VALUES (?, ?, ?, ?, ?)",
                               arguments: StatementArguments(attempt))
            }
        }
    }

    func letters() throws -> [Letter] {
        try store.database.writer.read { db in try Letter.order(Column("id")).fetchAll(db) }
    }

    /// Each letter's stored text, by letter id.
    func texts() throws -> [Int64: LetterText] {
        Dictionary(uniqueKeysWithValues: try store.database.writer.read { db in try LetterText.fetchAll(db) }.map { ($0.letterId, $0) })
    }

    func attempts() throws -> [Row] {
        try store.database.writer.read { db in try Row.fetchAll(db, sql: "SELECT * FROM delivery_attempt ORDER BY id") }
    }
}

@Suite("Delivery over real SMTP servers", .serialized)
struct DeliveryTests {
    /// Every message the server got is parsed by Python's email package and matches its letter exactly.
    func expectDelivered(_ server: SMTPTestServer, _ fixture: DeliveryFixture) throws {
        let letters = try fixture.letters()
        let texts = try fixture.texts()
        let received = try server.received()
        #expect(received.count == letters.count)
        let supporters = try fixture.store.database.writer.read { db in try Supporter.fetchAll(db) }
        let targets = try fixture.store.database.targets(ofCampaign: TestDatabase.slug)
        for message in received {
            let parsed = try PythonEmail.parse(file: message.file)
            let letter = try #require(letters.first { $0.messageId == parsed.messageId })
            let supporter = try #require(supporters.first { $0.id == letter.supporterId })
            let target = try #require(targets.first { $0.id == letter.targetId })
            #expect(parsed.from == [.init(name: "\(supporter.name) via Urgent Appeals", address: "appeals@example.org")])
            #expect(parsed.replyTo == [.init(name: supporter.name, address: supporter.email!)])
            #expect(parsed.to == [.init(name: target.name, address: target.email)])
            #expect(parsed.subject == texts[letter.id!]?.subject)
            #expect(parsed.body == texts[letter.id!]?.body)
            #expect(parsed.defects.isEmpty)
            #expect(message.mailFrom == "appeals@example.org")
            #expect(message.recipients == [target.email])
            #expect(letter.status == .sent && letter.attempts == 1 && letter.lastCode == 250)
        }
        #expect(Set(received.map { try! PythonEmail.parse(file: $0.file).messageId }).count == letters.count)
    }

    @Test("plain SMTP: every letter delivered once, exactly as rendered", arguments: StoreKind.allCases)
    func plain(_ kind: StoreKind) async throws {
        let server = try SMTPTestServer()
        let fixture = try await DeliveryFixture(server: server, kind: kind)
        let summary = try await fixture.send()
        #expect(summary.sent == 10 && summary.deferred == 0 && summary.failed == 0 && summary.stopped == nil)
        try expectDelivered(server, fixture)
        #expect(try fixture.attempts().map { $0["outcome"] as String } == Array(repeating: "sent", count: 10))
        #expect(try await fixture.send().attempted == 0)
    }

    /// A server requiring STARTTLS and AUTH as alice / s3cret, and a fixture configured to trust it.
    static func starttlsServer(_ kind: StoreKind) async throws -> (SMTPTestServer, DeliveryFixture) {
        let server = try SMTPTestServer(["--starttls", "--auth", "alice:s3cret"])
        var fixture = try await DeliveryFixture(server: server, kind: kind)
        fixture.config.smtp.security = .starttls
        fixture.config.smtp.username = "alice"
        fixture.config.smtp.caFile = server.certificate
        return (server, fixture)
    }

    @Test("STARTTLS with a private CA and AUTH", arguments: StoreKind.allCases)
    func starttlsAuth(_ kind: StoreKind) async throws {
        let (server, fixture) = try await Self.starttlsServer(kind)
        #expect(try await fixture.send(password: "s3cret").sent == 10)
        try expectDelivered(server, fixture)
        #expect(try server.received().allSatisfy { $0.tls && $0.authUser == "alice" })
    }

    @Test("smtps: TLS from the first byte", arguments: StoreKind.allCases)
    func smtps(_ kind: StoreKind) async throws {
        let server = try SMTPTestServer(["--smtps"])
        var fixture = try await DeliveryFixture(server: server, url: "smtps://127.0.0.1:\(server.port)", kind: kind)
        fixture.config.smtp.caFile = server.certificate
        #expect(try await fixture.send().sent == 10)
        try expectDelivered(server, fixture)
        #expect(try server.received().allSatisfy(\.tls))
    }

    /// Letters untouched by a run that had to stop: all queued, no attempt recorded.
    func expectUntouched(_ fixture: DeliveryFixture) throws {
        #expect(try fixture.letters().allSatisfy { $0.status == .queued && $0.attempts == 0 })
        #expect(try fixture.attempts().isEmpty)
    }

    @Test("a wrong password stops the run; the letters stay queued", arguments: StoreKind.allCases)
    func wrongPassword(_ kind: StoreKind) async throws {
        let (server, fixture) = try await Self.starttlsServer(kind)
        let summary = try await fixture.send(password: "wrong")
        #expect(summary.stoppedForConfiguration)
        #expect(summary.stopped?.contains("535") == true)
        #expect(summary.stopped?.contains("wrong") == false)
        try expectUntouched(fixture)
        #expect(try server.received().isEmpty)
    }

    @Test("a user name is set but the server offers no AUTH: nothing is sent unauthenticated", arguments: StoreKind.allCases)
    func noAuthOffered(_ kind: StoreKind) async throws {
        let server = try SMTPTestServer()
        var fixture = try await DeliveryFixture(server: server, kind: kind)
        fixture.config.smtp.username = "alice"
        let summary = try await fixture.send(password: "s3cret")
        #expect(summary.stoppedForConfiguration && summary.stopped?.contains("offered no authentication") == true, "\(summary.stopped ?? "")")
        try expectUntouched(fixture)
        #expect(try server.received().isEmpty)
    }

    @Test("no password in the environment is a configuration error naming the variable", arguments: StoreKind.allCases)
    func missingPassword(_ kind: StoreKind) async throws {
        var fixture = try await DeliveryFixture(server: nil, url: "smtp://127.0.0.1:1", kind: kind)
        fixture.config.smtp.username = "alice"
        await #expect(throws: AppealsError.self) { try await fixture.send() }
        try expectUntouched(fixture)
    }

    @Test("STARTTLS required but not offered: the run stops rather than send in clear", arguments: StoreKind.allCases)
    func starttlsNotOffered(_ kind: StoreKind) async throws {
        let server = try SMTPTestServer()
        var fixture = try await DeliveryFixture(server: server, kind: kind)
        fixture.config.smtp.security = .starttls
        let summary = try await fixture.send()
        #expect(summary.stoppedForConfiguration)
        #expect(summary.stopped?.contains("STARTTLS") == true)
        try expectUntouched(fixture)
        #expect(try server.received().isEmpty)
    }

    @Test("a certificate that does not verify stops the run", arguments: StoreKind.allCases)
    func untrustedCertificate(_ kind: StoreKind) async throws {
        let server = try SMTPTestServer(["--starttls"])
        var fixture = try await DeliveryFixture(server: server, kind: kind)
        fixture.config.smtp.security = .starttls
        let summary = try await fixture.send()
        #expect(summary.stoppedForConfiguration)
        try expectUntouched(fixture)
    }

    @Test("server down: the run stops; the letters stay queued", arguments: StoreKind.allCases)
    func serverDown(_ kind: StoreKind) async throws {
        let fixture = try await DeliveryFixture(server: nil, url: "smtp://127.0.0.1:\(SMTPTestServer.closedPort())", kind: kind)
        let summary = try await fixture.send()
        #expect(summary.stopped != nil && !summary.stoppedForConfiguration)
        try expectUntouched(fixture)
    }

    static let faults: [(String, LetterStatus, Int?)] = [
        ("451-data", .deferred, 451),
        ("452-data", .deferred, 452),
        ("554-data-plain", .failed, 554),
        ("553-rcpt", .failed, 553),
        // Dropped once the whole message was written: possibly delivered, so an attempt that is retried.
        ("drop-data", .deferred, nil),
    ]

    @Test("each failure class ends in its documented state, with the attempt's code and text recorded", arguments: StoreKind.allCases, faults)
    func faultClasses(_ kind: StoreKind, _ expected: (fault: String, status: LetterStatus, code: Int?)) async throws {
        let (fault, status, code) = expected
        let server = try SMTPTestServer(["--fault", fault])
        var fixture = try await DeliveryFixture(server: server, kind: kind)
        fixture.config.smtp.connections = 1
        _ = try await fixture.send()
        let letters = try fixture.letters()
        let tried = letters.filter { $0.attempts > 0 }
        #expect(!tried.isEmpty)
        #expect(tried.allSatisfy { $0.status == status && $0.lastCode == code && !($0.lastReply ?? "").isEmpty }, "\(tried.map { ($0.status, $0.lastCode, $0.lastReply) })")
        if status == .deferred {
            #expect(tried.allSatisfy { $0.dueAt >= DeliveryFixture.sendTime.addingTimeInterval(60) && $0.dueAt <= DeliveryFixture.sendTime.addingTimeInterval(3600) })
        }
        let attempts = try fixture.attempts()
        #expect(attempts.count == tried.count)
        #expect(attempts.allSatisfy { ($0["code"] as Int?) == code && !($0["reply"] as String).isEmpty })
        #expect(try server.received().isEmpty)
    }

    /// Targets disabled so far.
    func disabledTargets(_ fixture: DeliveryFixture) throws -> [Target] {
        try fixture.store.database.targets(ofCampaign: TestDatabase.slug).filter(\.disabled)
    }

    static let refusalsAboutUs: [(fault: String, words: String)] = [
        ("550-mail", "MAIL FROM"),
        ("554-rcpt-relay", "Relay access denied"),
    ]

    @Test("a refusal about our sender, our right to relay or our message stops the run: no target disabled, letters stay queued",
          arguments: StoreKind.allCases, refusalsAboutUs)
    func refusalAboutUs(_ kind: StoreKind, _ refusal: (fault: String, words: String)) async throws {
        let (fault, words) = refusal
        let server = try SMTPTestServer(["--fault", fault])
        let fixture = try await DeliveryFixture(server: server, kind: kind)
        let summary = try await fixture.send()
        #expect(summary.stopped?.contains(words) == true, "\(summary.stopped ?? "not stopped")")
        #expect(summary.disabledTargets.isEmpty && summary.failed == 0)
        #expect(try disabledTargets(fixture).isEmpty)
        try expectUntouched(fixture)
        // Once the server takes our letters, every one goes out.
        let fixed = try SMTPTestServer()
        var later = fixture
        later.config.smtp.url = fixed.url
        #expect(try await later.send().sent == 10)
    }

    @Test("one message refused after the final dot fails that letter only, and the run goes on", arguments: StoreKind.allCases)
    func oneMessageRefused(_ kind: StoreKind) async throws {
        let server = try SMTPTestServer(["--fault", "554-data", "--fault-count", "1"])
        var fixture = try await DeliveryFixture(server: server, kind: kind)
        fixture.config.smtp.connections = 1
        let summary = try await fixture.send()
        #expect(summary.failed == 1 && summary.sent == 9 && summary.stopped == nil, "\(summary)")
        #expect(try fixture.letters().filter { $0.status == .failed }.allSatisfy { $0.lastCode == 554 && $0.attempts == 1 })
        #expect(try disabledTargets(fixture).isEmpty)
    }

    @Test("the same refusal for letters in a row stops the run after a few, not after all of them", arguments: StoreKind.allCases, ["554-data-plain", "554-data"])
    func sameRefusalEveryTime(_ kind: StoreKind, _ fault: String) async throws {
        let server = try SMTPTestServer(["--fault", fault])
        var fixture = try await DeliveryFixture(server: server, kind: kind)
        fixture.config.smtp.connections = 1
        let summary = try await fixture.send()
        #expect(summary.stopped?.contains("in a row") == true, "\(summary.stopped ?? "not stopped")")
        #expect(summary.failed == RunBreaker.sameRefusalsInARow)
        let letters = try fixture.letters()
        #expect(letters.filter { $0.status == .queued && $0.attempts == 0 }.count == 10 - RunBreaker.sameRefusalsInARow)
        #expect(try disabledTargets(fixture).isEmpty)
    }

    @Test("a refused copy to the supporter: the official's copy goes out, and the refusal is recorded", arguments: StoreKind.allCases)
    func refusedCopy(_ kind: StoreKind) async throws {
        let server = try SMTPTestServer(["--reject-rcpt", "juergen@"])
        var fixture = try await DeliveryFixture(server: server, kind: kind)
        fixture.config.sender.copyToSupporter = true
        let summary = try await fixture.send()
        #expect(summary.sent == 10 && summary.failed == 0 && summary.refusedCopies == 5)
        let received = try server.received()
        #expect(received.count == 10)
        let juergen = try fixture.store.database.supporter(email: "juergen@example.net", campaign: TestDatabase.slug)
        for letter in try fixture.letters() {
            let message = try #require(received.first { $0.data.range(of: Data(letter.messageId.utf8)) != nil })
            #expect(letter.status == .sent)
            if letter.supporterId == juergen.id {
                #expect(message.recipients.count == 1 && !message.recipients[0].contains("juergen"))
                #expect(letter.lastReply?.contains("copy to the supporter refused: 550 5.1.1") == true)
            } else {
                #expect(message.recipients.count == 2 && letter.lastReply?.contains("refused") == false)
            }
        }
        #expect(try disabledTargets(fixture).isEmpty)
    }

    @Test("a refused target with a good copy: nothing goes to the copy alone; the target is disabled", arguments: StoreKind.allCases)
    func refusedTargetGoodCopy(_ kind: StoreKind) async throws {
        let server = try SMTPTestServer(["--reject-rcpt", "president@"])
        var fixture = try await DeliveryFixture(server: server, kind: kind)
        fixture.config.sender.copyToSupporter = true
        let summary = try await fixture.send()
        #expect(summary.sent == 8 && summary.failed == 1 && summary.disabledTargets == ["president@example.org"])
        let received = try server.received()
        #expect(received.count == 8 && received.allSatisfy { $0.recipients.count == 2 && !$0.recipients.contains("president@example.org") })
        #expect(try disabledTargets(fixture).map(\.email) == ["president@example.org"])
    }

    @Test("a server that stalls, is busy (421) or drops the connection: the run stops after a few, and no attempt is spent",
          arguments: StoreKind.allCases, ["stall-ehlo", "stall-mail", "421-connect"])
    func stalledServer(_ kind: StoreKind, _ fault: String) async throws {
        let server = try SMTPTestServer(["--fault", fault])
        var fixture = try await DeliveryFixture(server: server, kind: kind)
        fixture.config.smtp.timeoutSeconds = 1
        let summary = try await fixture.send()
        // Three timeouts over two connections, not one per letter.
        #expect(summary.stopped?.contains("\(RunBreaker.timeoutsInARow) times in a row") == true, "\(summary.stopped ?? "not stopped")")
        #expect(!summary.stoppedForConfiguration && summary.attempted == 0)
        try expectUntouched(fixture)
    }

    @Test("550 mailbox unavailable: the letter fails, its target is disabled, its other letters are not tried; three such targets in a row stop the run", arguments: StoreKind.allCases)
    func mailboxUnavailable(_ kind: StoreKind) async throws {
        let server = try SMTPTestServer(["--fault", "550-rcpt"])
        var fixture = try await DeliveryFixture(server: server, kind: kind)
        fixture.config.smtp.connections = 1
        let summary = try await fixture.send()
        // A relay refusing every recipient as nonexistent would disable every target: the run stops after three.
        #expect(summary.failed == RunBreaker.deadTargetsInARow && summary.stopped?.contains("targets in a row were refused as nonexistent") == true,
                "\(summary)")
        #expect(Set(summary.disabledTargets).count == RunBreaker.deadTargetsInARow)
        let letters = try fixture.letters()
        #expect(letters.filter { $0.status == .failed }.count == RunBreaker.deadTargetsInARow)
        let targets = try fixture.store.database.targets(ofCampaign: TestDatabase.slug)
        let failedTargets = Set(letters.filter { $0.status == .failed }.map(\.targetId))
        #expect(targets.filter(\.disabled).map(\.id!).sorted() == failedTargets.sorted())
        #expect(targets.filter(\.disabled).allSatisfy { $0.disabledReason?.contains("550") == true })
        // The disabled targets' other letters are never tried; the others' letters stay queued.
        #expect(letters.filter { failedTargets.contains($0.targetId) && $0.status != .failed }.allSatisfy { $0.attempts == 0 })
    }

    @Test("a server slower than the timeout: possibly delivered, deferred and counted as a possible duplicate", arguments: StoreKind.allCases)
    func slowServer(_ kind: StoreKind) async throws {
        let server = try SMTPTestServer(["--fault", "slow", "--delay", "3", "--fault-count", "1"])
        var fixture = try await DeliveryFixture(server: server, kind: kind)
        fixture.config.smtp.connections = 1
        fixture.config.smtp.timeoutSeconds = 1
        let summary = try await fixture.send(options: SendOptions(limit: 1))
        #expect(summary.possibleDuplicates == 1)
        let letter = try #require(try fixture.letters().first { $0.attempts == 1 })
        #expect(letter.status == .deferred && letter.possibleDuplicate)
        #expect(try fixture.store.database.report(campaign: TestDatabase.slug).possibleDuplicates == 1)
    }

    @Test("when the server comes back, deferred letters go out on the next run once due", arguments: StoreKind.allCases)
    func recovery(_ kind: StoreKind) async throws {
        let server = try SMTPTestServer(["--fault", "451-data", "--fault-count", "10"])
        var fixture = try await DeliveryFixture(server: server, kind: kind)
        fixture.config.smtp.connections = 1
        #expect(try await fixture.send().deferred == 10)
        #expect(try await fixture.send(at: DeliveryFixture.sendTime.addingTimeInterval(30)).attempted == 0)
        let later = try await fixture.send(at: DeliveryFixture.sendTime.addingTimeInterval(2 * 3600))
        #expect(later.sent == 10)
        #expect(try fixture.letters().allSatisfy { $0.status == .sent && $0.attempts == 2 })
        #expect(try server.received().count == 10)
    }

    @Test("maxAttempts: a letter that keeps failing transiently ends failed", arguments: StoreKind.allCases)
    func attemptsExhausted(_ kind: StoreKind) async throws {
        let server = try SMTPTestServer(["--fault", "451-data"])
        var fixture = try await DeliveryFixture(server: server, kind: kind)
        fixture.config.smtp.connections = 1
        fixture.config.limits.maxAttempts = 2
        #expect(try await fixture.send().deferred == 10)
        #expect(try await fixture.send(at: DeliveryFixture.sendTime.addingTimeInterval(7200)).failed == 10)
        #expect(try fixture.letters().allSatisfy { $0.attempts == 2 && $0.status == .failed })
    }

    @Test("CR and LF in a stored name add no recipient and no header", arguments: StoreKind.allCases)
    func injection(_ kind: StoreKind) async throws {
        let server = try SMTPTestServer()
        let fixture = try await DeliveryFixture(server: server, kind: kind)
        try await fixture.store.database.writer.write { db in
            try db.execute(sql: "UPDATE supporter SET name = 'Eve' || char(13, 10) || 'Bcc: x@example.net'")
            try db.execute(sql: "UPDATE target SET name = 'Target' || char(10) || 'Cc: y@example.net'")
        }
        #expect(try await fixture.send().sent == 10)
        for message in try server.received() {
            #expect(message.recipients.count == 1 && !message.recipients[0].contains("example.net") || message.recipients[0].hasPrefix("embassy"))
            let parsed = try PythonEmail.parse(file: message.file)
            #expect(parsed.bcc.isEmpty && parsed.cc.isEmpty && parsed.to.count == 1)
            #expect(parsed.headerNames == ["Date", "From", "Reply-To", "To", "Subject", "Message-ID", "MIME-Version", "Content-Type", "Content-Transfer-Encoding"])
            #expect(parsed.from.first?.name == "Eve Bcc: x@example.net via Urgent Appeals")
        }
    }

    @Test("--dry-run builds and checks every due message and changes nothing", arguments: StoreKind.allCases)
    func dryRun(_ kind: StoreKind) async throws {
        let server = try SMTPTestServer()
        let fixture = try await DeliveryFixture(server: server, kind: kind)
        let summary = try await fixture.send(options: SendOptions(dryRun: true))
        #expect(summary.checked == 10 && summary.attempted == 0)
        try expectUntouched(fixture)
        #expect(try server.received().isEmpty)
    }

    @Test("sending hours hold letters for targets where it is night; --limit caps a run", arguments: StoreKind.allCases)
    func hoursAndLimit(_ kind: StoreKind) async throws {
        let server = try SMTPTestServer()
        let fixture = try await DeliveryFixture(server: server, kind: kind)
        try await fixture.store.database.writer.write { db in try db.execute(sql: "UPDATE campaign SET sending_hours = '08:00-20:00'") }
        // 03:00 in Baku, 00:00 in Berlin and Brussels.
        let night = Date(timeIntervalSince1970: 1_795_053_600)
        #expect(try await fixture.send(at: night).attempted == 0)
        #expect(try await fixture.send(options: SendOptions(limit: 3)).sent == 3)
        #expect(try server.received().count == 3)
    }

    @Test("--test-to sends one [TEST] sample per target to the organizer only and changes no letter", arguments: StoreKind.allCases)
    func testTo(_ kind: StoreKind) async throws {
        let server = try SMTPTestServer()
        let fixture = try await DeliveryFixture(server: server, kind: kind)
        let transport = try fixture.config.makeTransport()
        let config = fixture.config
        let (results, missing) = try await fixture.withDeliveryStore { store in
            try await Dispatcher(store: store, config: config, transport: transport).sendTests(campaign: TestDatabase.slug, to: "organizer@example.org")
        }
        #expect(results.count == 6 && results.allSatisfy { $0.reply.kind == .accepted })
        #expect(missing.count == 8)  // embassies with no supporter in their country
        let received = try server.received()
        #expect(received.allSatisfy { $0.recipients == ["organizer@example.org"] })
        #expect(try received.allSatisfy { try PythonEmail.parse(file: $0.file).subject.hasPrefix("[TEST] ") })
        // No real supporter's address anywhere in a sample: replies go to the tester.
        #expect(try received.allSatisfy { message in
            let parsed = try PythonEmail.parse(file: message.file)
            return parsed.replyTo.map(\.address) == ["organizer@example.org"] && parsed.cc.isEmpty
                && message.data.range(of: Data("juergen@example.net".utf8)) == nil && message.data.range(of: Data("chloe@example.org".utf8)) == nil
        })
        let letters = try fixture.letters()
        #expect(letters.allSatisfy { $0.status == .queued && $0.attempts == 0 })
        #expect(try received.allSatisfy { message in try !letters.map(\.messageId).contains(PythonEmail.parse(file: message.file).messageId) })
    }
}

@Suite("SQL metacharacters and emoji", .serialized)
struct VerbatimTests {
    @Test("SQL metacharacters and emoji in every field are stored and sent verbatim", arguments: StoreKind.allCases)
    func verbatim(_ kind: StoreKind) async throws {
        let server = try SMTPTestServer()
        let fixture = try await DeliveryFixture(server: server, kind: kind)
        let name = "Robert'); DROP TABLE letter;-- \"O'Brien\" 🕊️"
        let note = "'; DELETE FROM supporter WHERE '1'='1 -- 100% _wild_ \\ 🙏\nSecond line with emoji 👩🏽‍⚖️ and a quote \""
        let values = ["name": name, "email": "o'brien+tag@example.net", "country": "FR", "city": "Zürich %_ \"quoted\"",
                      "language": "en", "personal_note": note]
        #expect(try fixture.store.database.addSupporter(values, campaign: TestDatabase.slug).imported == 1)
        #expect(try await fixture.store.queue().queued == 5)
        #expect(try await fixture.send().sent == 15)
        let stored = try fixture.store.database.supporter(email: "O'BRIEN+tag@example.net", campaign: TestDatabase.slug)
        #expect(stored.name == name && stored.personalNote == note && stored.city == "Zürich %_ \"quoted\"")
        #expect(try fixture.store.count("letter") == 15 && fixture.store.count("supporter") == 3)
        let mine = try server.received().filter { $0.data.range(of: Data("o'brien+tag@example.net".utf8)) != nil }
        #expect(mine.count == 5)
        for message in try PythonEmail.parse(files: mine.map(\.file)) {
            #expect(message.from.first?.name == "\(name) via Urgent Appeals")
            #expect(message.replyTo == [.init(name: name, address: "o'brien+tag@example.net")])
            #expect(message.body.contains(note + "\n"))
            #expect(message.body.contains("Zürich %_ \"quoted\", France"))
        }
    }
}
