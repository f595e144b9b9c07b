import Foundation
import Testing
import TestSupport

@Suite("The command line says what is happening and refuses what cannot work", .serialized)
struct GuidanceTests {
    @Test("without a database, every command but init refuses, naming the path it would have created")
    func noDatabase() throws {
        let cli = try CLIRunner()
        for command in [["status", "--campaign", CLIRunner.slug], ["send"], ["campaign", "list"], ["queue", "--campaign", CLIRunner.slug]] {
            let result = try cli.run(command)
            #expect(result.code == 2 && result.stderr.contains("no database at \(cli.path("appeals.sqlite"))") && result.stderr.contains("appeal-cli init"),
                    "\(command): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: cli.path("appeals.sqlite")))
        #expect(try cli.run("init").code == 0)
        #expect(try cli.run("campaign", "list").code == 0)
    }

    @Test("send --campaign names an unknown, draft or closed campaign: exit 2 with the reason; a paused one says so")
    func sendWhatCampaign() throws {
        let cli = try CLIRunner()
        try cli.prepareExample()
        try cli.writeConfig(url: "file://\(cli.path("outbox"))")
        let unknown = try cli.run("send", "--campaign", "no-such-campaign")
        #expect(unknown.code == 2 && unknown.stderr.contains("no campaign no-such-campaign"), "\(unknown.stderr)")
        for (verb, words) in [("close", "is closed"), ("pause", "is paused")] {
            #expect(try cli.run("campaign", verb, CLIRunner.slug).code == 0)
            let result = try cli.run("send", "--campaign", CLIRunner.slug)
            #expect(result.code == (verb == "close" ? 2 : 0) && (result.stderr + result.stdout).contains(words), "\(result.stdout) \(result.stderr)")
        }
    }

    @Test("global options are taken before or after the command")
    func globalOptionsAnywhere() throws {
        let cli = try CLIRunner()
        #expect(try cli.run("--db", "a.sqlite", "init").code == 0)
        #expect(try cli.run("--verbose", "--db", "a.sqlite", "campaign", "list").code == 0)
        #expect(try cli.run("campaign", "list", "--db", "a.sqlite", "--verbose").code == 0)
        #expect(try cli.run("--db=a.sqlite", "campaign", "list").code == 0)
    }

    @Test("letter for a supporter who said no to consent says so instead of showing letters")
    func noConsent() throws {
        let cli = try CLIRunner()
        try cli.prepareExample()
        let csv = cli.path("refusing.csv")
        try "name,email,country,consent\nRefus Total,refus@example.net,FR,no\n".write(toFile: csv, atomically: true, encoding: .utf8)
        #expect(try cli.run("supporter", "import", csv, "--campaign", CLIRunner.slug).code == 0)
        let result = try cli.run("letter", "--campaign", CLIRunner.slug, "--supporter", "refus@example.net")
        #expect(result.code == 0 && result.stdout.contains("no letters") && !result.stdout.contains("Subject:"), "\(result.stdout)")
    }

    @Test("letter --out writes .txt files for text")
    func textFiles() throws {
        let cli = try CLIRunner()
        try cli.prepareExample()
        #expect(try cli.run("letter", "--campaign", CLIRunner.slug, "--supporter", "elodie.marchand@example.net", "--out", "letters").code == 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: cli.path("letters")).sorted()
        #expect(files.count == 5 && files.allSatisfy { $0.hasSuffix(".txt") }, "\(files)")
    }

    @Test("smtps:// with security none is refused when the config is read")
    func contradictorySecurity() throws {
        let cli = try CLIRunner()
        try """
            { "smtp": { "url": "smtps://127.0.0.1:465", "security": "none" } }
            """.write(toFile: cli.path("appeal.json"), atomically: true, encoding: .utf8)
        let result = try cli.run("init")
        #expect(result.code == 2 && result.stderr.contains("smtp.security") && result.stderr.contains("contradicts smtps://"), "\(result.stderr)")
    }

    @Test("smtps:// against a server that speaks plain SMTP: the message says so, not OpenSSL's words alone")
    func tlsOnPlainPort() throws {
        let server = try SMTPTestServer()
        let cli = try CLIRunner()
        try cli.prepareExample()
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        try """
            { "smtp": { "url": "smtps://127.0.0.1:\(server.port)", "timeoutSeconds": 5 }, "limits": { "messagesPerSecond": 0 } }
            """.write(toFile: cli.path("appeal.json"), atomically: true, encoding: .utf8)
        let result = try cli.run("send")
        #expect(result.code == 2 && result.stderr.contains("did not speak TLS on this port"), "\(result.stderr)")
    }
}
