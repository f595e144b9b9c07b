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

    @Test("an appeal.json that cannot be read (a link to nowhere, a huge file) is refused, never replaced by the defaults")
    func unreadableConfig() throws {
        let cli = try CLIRunner()
        try FileManager.default.createSymbolicLink(atPath: cli.path("appeal.json"), withDestinationPath: cli.path("moved-away.json"))
        let dangling = try cli.run("init")
        #expect(dangling.code == 2 && dangling.stderr.contains("appeal.json: config file is missing or unreadable: No such file or directory"),
                "\(dangling.stdout) \(dangling.stderr)")
        #expect(!FileManager.default.fileExists(atPath: cli.path("appeals.sqlite")))
        try FileManager.default.removeItem(atPath: cli.path("appeal.json"))
        #expect(FileManager.default.createFile(atPath: cli.path("appeal.json"), contents: nil))
        #expect(truncate(cli.path("appeal.json"), 20 << 20) == 0)
        let huge = try cli.run("init")
        #expect(huge.code == 2 && huge.stderr.contains("it is 20971520 bytes, and such a file is at most 16 MB"), "\(huge.stderr)")
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

    @Test("no help text sends the reader to a file outside the project", arguments: [
        ["--help"], ["status", "--help"], ["send", "--help"], ["campaign", "update", "--help"], ["target", "update", "--help"],
        ["letter", "list", "--help"], ["export", "--help"], ["supporter", "import", "--help"],
    ])
    func helpStaysInside(_ arguments: [String]) throws {
        let help = try CLIRunner().run(arguments)
        #expect(help.code == 0 && !help.stdout.isEmpty)
        #expect(!help.stdout.contains("SPEC") && !help.stdout.lowercased().contains("shared folder"), "\(help.stdout)")
    }

    @Test("--version names the release; completion scripts are generated for bash and zsh")
    func versionAndCompletions() throws {
        let cli = try CLIRunner()
        let version = try cli.run("--version")
        #expect(version.code == 0 && version.stdout.hasPrefix("appeal-cli ") && version.stdout.contains("."), "\(version.stdout)")
        for shell in ["bash", "zsh"] {
            let script = try cli.run("--generate-completion-script", shell)
            #expect(script.code == 0 && script.stdout.contains("supporter") && script.stdout.contains("--campaign"))
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

    @Test("a target without a salutation is refused when the letters begin with one")
    func missingSalutation() throws {
        let cli = try CLIRunner()
        let folder = try StrictInputTests.campaignCopy(cli) { $0 }
        let targets = try String(contentsOfFile: "\(folder)/targets.csv", encoding: .utf8)
        try targets.replacingOccurrences(of: ",Your Excellency,president@", with: ",,president@").write(toFile: "\(folder)/targets.csv", atomically: true, encoding: .utf8)
        #expect(try cli.run("init").code == 0)
        let create = try cli.run("campaign", "create", folder)
        #expect(create.code == 2 && create.stderr.contains("targets.csv:2: salutation: is empty"), "\(create.stderr)")
    }

    @Test("a semicolon-separated supporters file is read; a Latin-1 one is refused naming the column and how to save it")
    func spreadsheetFiles() throws {
        let cli = try CLIRunner()
        try cli.prepareExample()
        let semicolons = cli.path("semicolons.csv")
        try "name;email;country;city\n\"Weber; Anna\";anna@example.net;DE;Köln\nJan Novák;jan@example.net;CZ;Brno\n".write(toFile: semicolons, atomically: true, encoding: .utf8)
        let imported = try cli.run("supporter", "import", semicolons, "--campaign", CLIRunner.slug)
        #expect(imported.code == 0 && imported.stdout.contains("imported 2 supporters"), "\(imported.stdout) \(imported.stderr)")
        let one = try cli.run("letter", "--campaign", CLIRunner.slug, "--supporter", "anna@example.net")
        #expect(one.stdout.contains("Weber; Anna"))
        let latin1 = cli.path("latin1.csv")
        try Data("name,email,country,city\nRen\u{E9} Dupont,rene@example.net,FR,Orl\u{E9}ans\n".data(using: .isoLatin1)!).write(to: URL(fileURLWithPath: latin1))
        let refused = try cli.run("supporter", "import", latin1, "--campaign", CLIRunner.slug)
        #expect(refused.code == 2 && refused.stderr.contains("latin1.csv:2: column name is not UTF-8") && refused.stderr.contains("LibreOffice"), "\(refused.stderr)")
    }

    @Test("counts of one are said in the singular")
    func singular() throws {
        let cli = try CLIRunner()
        try cli.prepareExample()
        let csv = cli.path("one.csv")
        try "name,email,country\nSolo Person,solo@example.net,\n".write(toFile: csv, atomically: true, encoding: .utf8)
        let folder = cli.path("fresh.sqlite")
        #expect(try cli.run("--db", folder, "init").code == 0)
        #expect(try cli.run("--db", folder, "campaign", "create", CLIRunner.exampleCampaign).code == 0)
        #expect(try cli.run("--db", folder, "supporter", "import", csv, "--campaign", CLIRunner.slug).stdout.contains("imported 1 supporter into"))
        let queue = try cli.run("--db", folder, "queue", "--campaign", CLIRunner.slug)
        #expect(queue.stdout.contains("queued 4 letters (0 already queued) for 1 supporter of") && queue.stdout.contains("1 supporter has no embassy"), "\(queue.stdout)")
    }

    @Test("send says what still waits and why; send --json says it for scripts")
    func whatWaits() throws {
        let server = try SMTPTestServer(["--fault", "451-data", "--fault-count", "5"])
        let cli = try CLIRunner()
        try cli.prepareExample()
        try cli.writeConfig(url: server.url)
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        #expect(try cli.run("target", "disable", "--campaign", CLIRunner.slug, "--email", "president@example.org").code == 0)
        let result = try cli.run("send", "--json")
        #expect(result.code == 3, "\(result.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(summary["sent"] as? Int == 70 && summary["deferred"] as? Int == 5 && summary["stopped"] is NSNull, "\(summary)")
        let waiting = try #require(summary["waiting"] as? [String: Any])
        #expect(waiting["backingOff"] as? Int == 5 && waiting["nextRetryAt"] is String && waiting["heldByDisabledTargets"] as? Int == 20, "\(waiting)")
        let text = try cli.run("send")
        #expect(text.stdout.contains("5 deferred letters wait after a failed attempt") && text.stdout.contains("20 letters are held behind disabled targets"),
                "\(text.stdout)")
        #expect(try cli.run("campaign", "pause", CLIRunner.slug).code == 0)
        #expect(try cli.run("send").stdout.contains("5 letters wait in paused campaigns"))
    }

    @Test("letter list and export --status show the failed letters with their target, supporter, attempts and last reply")
    func failedLetters() throws {
        let cli = try CLIRunner()
        let server = try cli.sendRefusingThePresident()
        defer { server.stop() }
        let list = try cli.run("letter", "list", "--campaign", CLIRunner.slug, "--status", "failed")
        let lines = list.stdout.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("failed\t1 attempt\tIlham Aliyev <president@example.org>\t") && lines[0].contains("550 5.1.1"), "\(list.stdout)")
        let export = try cli.run("export", "--campaign", CLIRunner.slug, "--status", "failed")
        let rows = export.stdout.split(whereSeparator: \.isNewline)
        #expect(rows.count == 2 && rows[1].contains(",president@example.org,official,failed,1,550,"), "\(export.stdout)")
        #expect(try cli.run("letter", "list", "--campaign", CLIRunner.slug, "--status", "sent").stdout.split(separator: "\n").count == 75)
        // The preview is still `letter` with no subcommand.
        #expect(try cli.run("letter", "--campaign", CLIRunner.slug, "--supporter", "elodie.marchand@example.net").stdout.hasPrefix("To: "))
    }
}
