import Appeals
import Foundation
import GRDB
import Testing
import TestSupport

@Suite("Erasure reaches every copy, even while a send is running", .serialized)
struct ErasureTests {
    /// The messages the server got that carry `text` anywhere.
    static func messages(_ server: SMTPTestServer, holding text: String) throws -> Int {
        try server.received().filter { $0.data.range(of: Data(text.utf8)) != nil || $0.recipients.contains(text) }.count
    }

    @Test("supporter erase during send: the letters the sender had claimed are cancelled and never sent in their name", arguments: StoreKind.allCases)
    func eraseDuringSend(_ store: StoreKind) throws {
        let server = try SMTPTestServer()
        let cli = try CLIRunner(store: store)
        try cli.prepareExample()
        try cli.writeConfig(url: server.url, perSecond: 20)
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        // The last supporter's letters come last: claimed at once, sent last, about 4 s from now.
        let running = try cli.start(["send"])
        #expect(try cli.waitUntil { try server.received().count >= 5 })
        let erase = try cli.run("supporter", "erase", "--campaign", CLIRunner.slug, "--email", "mai.nguyen@example.net")
        #expect(erase.code == 0, "\(erase.stderr)")
        #expect(erase.stdout.contains("4 unsent letters cancelled"), "\(erase.stdout)")
        let sent = try running.finish()
        #expect(sent.code == 0, "\(sent.stderr)")
        #expect(try Self.messages(server, holding: "mai.nguyen@example.net") == 0)
        let status = try cli.statusJSON()
        let letters = try #require(status["letters"] as? [String: Int])
        #expect(letters["cancelled"] == 4 && letters["sent"] == 91 && letters["sending"] == 0, "\(letters)")
        #expect(try server.received().count == 91)
    }

    @Test("erase removes the name and city from stored subjects, the address from stored replies, and their outbox files", arguments: StoreKind.allCases)
    func everyCopy(_ store: StoreKind) throws {
        // A campaign whose subjects name the supporter and their city.
        let cli = try CLIRunner(store: store)
        let folder = cli.path("campaign")
        try FileManager.default.copyItem(atPath: CLIRunner.exampleCampaign, toPath: folder)
        for language in ["en", "fr"] {
            try "{{supporter.name}} ({{supporter.city}}): free Rufat Safarov\n".write(toFile: "\(folder)/subject.\(language).mustache", atomically: true, encoding: .utf8)
        }
        try #require(try cli.run("init").code == 0)
        try #require(try cli.run("campaign", "create", folder).code == 0)
        try #require(try cli.run("supporter", "import", "\(folder)/supporters.sample.csv", "--campaign", CLIRunner.slug).code == 0)
        // The server refuses the supporter's copy and quotes the address in its reply.
        let server = try SMTPTestServer(["--reject-rcpt", "dana.whitfield@"])
        try cli.writeConfig(url: server.url, copyToSupporter: true)
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        #expect(try cli.run("send").code == 0)
        let personal = ["dana.whitfield@example.org", "Dana Whitfield", "Chicago"]
        let database = try cli.databaseBytes()
        #expect(personal.allSatisfy { database.range(of: Data($0.utf8)) != nil }, "before erasure the database holds all of them")

        let erase = try cli.run("supporter", "erase", "--campaign", CLIRunner.slug, "--email", "dana.whitfield@example.org")
        #expect(erase.code == 0, "\(erase.stderr)")
        #expect(erase.stdout.contains("5 letters emptied") && erase.stdout.contains("stored server replies cleaned"), "\(erase.stdout)")
        let after = try cli.databaseBytes()
        for text in personal {
            #expect(after.range(of: Data(text.utf8)) == nil, "the database still holds \(text)")
        }
        let export = try cli.run("export", "--campaign", CLIRunner.slug)
        #expect(!export.stdout.contains("dana.whitfield") && export.stdout.contains("[erased]"))
    }

    @Test("erase with the file:// transport removes the supporter's messages from the outbox and says what it cannot reach", arguments: StoreKind.allCases)
    func outbox(_ store: StoreKind) throws {
        let cli = try CLIRunner(store: store)
        try cli.prepareExample()
        try cli.writeConfig(url: "file://\(cli.path("outbox"))")
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        try #require(try cli.run("send").code == 0)
        func holding() throws -> Int {
            try FileManager.default.contentsOfDirectory(atPath: cli.path("outbox")).filter { name in
                (FileManager.default.contents(atPath: cli.path("outbox/\(name)")) ?? Data()).range(of: Data("elodie.marchand@example.net".utf8)) != nil
            }.count
        }
        #expect(try holding() == 5)
        let erase = try cli.run("supporter", "erase", "--campaign", CLIRunner.slug, "--email", "elodie.marchand@example.net")
        #expect(erase.stdout.contains("removed 5 message files"), "\(erase.stdout)")
        #expect(erase.stdout.contains("beyond its reach"))
        #expect(try holding() == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cli.path("outbox")).count == 90)
    }

    @Test("erase on PostgreSQL reaches bounces copied from the file: the report naming the supporter goes, the kept message with it")
    func bouncesOnPostgres() throws {
        let postgres = try PostgresInstance.shared()
        let cli = try CLIRunner()
        try cli.prepareExample()
        let bounce = Fixtures.bounce("qmail.eml", ["VERP": "x@example.org", "RCPT": "elodie.marchand@example.net", "MESSAGE_ID": "<q@example.org>"])
        try bounce.write(toFile: cli.path("bounce.eml"), atomically: true, encoding: .utf8)
        try #require(try cli.pipeline("\"$APPEAL\" bounces ingest - < bounce.eml > /dev/null") == 0)
        let name = "erase_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try postgres.createDatabase(name)
        try #require(try cli.run("db", "copy", "--to", postgres.url(name)).code == 0)
        #expect(try postgres.query("SELECT count(*) FROM bounce_message WHERE raw IS NOT NULL", database: name) == ["1"])
        #expect(try postgres.query("SELECT count(*) FROM bounce WHERE recipient ILIKE '%elodie.marchand%'", database: name) == ["1"])

        let erase = try cli.run("--db", postgres.url(name), "supporter", "erase", "--campaign", CLIRunner.slug, "--email", "elodie.marchand@example.net")
        #expect(erase.code == 0, "\(erase.stderr)")
        #expect(try postgres.query("SELECT count(*) FROM bounce WHERE recipient ILIKE '%elodie.marchand%'", database: name) == ["0"])
        #expect(try postgres.query("SELECT count(*) FROM bounce_message WHERE raw IS NOT NULL", database: name) == ["0"])
        #expect(try postgres.query("SELECT count(*) FROM supporter WHERE erased_at IS NOT NULL AND email IS NULL AND name = ''", database: name) == ["1"])
        // Erased already: said so, exit 2, nothing changes.
        let again = try cli.run("--db", postgres.url(name), "supporter", "erase", "--campaign", CLIRunner.slug, "--email", "elodie.marchand@example.net")
        #expect(again.code == 2 && again.stderr.contains("erased already"), "\(again.stderr)")
    }
}
