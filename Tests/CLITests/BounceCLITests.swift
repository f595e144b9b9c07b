import Foundation
import Testing
import TestSupport

@Suite("Bounces from a real mail system, and bounces ingest's sources", .serialized)
struct BounceCLITests {
    static let bounceDomain = "bounces.example.test"

    /// Writes `appeal.json` with VERP return paths, sending through `url`.
    static func writeConfig(_ cli: CLIRunner, url: String) throws {
        try """
            { "database": "appeals.sqlite",
              "smtp": { "url": "\(url)", "security": "none", "timeoutSeconds": 10, "connections": 2 },
              "sender": { "bounceAddress": "bounces@\(bounceDomain)" },
              "limits": { "messagesPerSecond": 0 } }
            """.write(toFile: cli.path("appeal.json"), atomically: true, encoding: .utf8)
    }

    static func target(_ email: String, in status: [String: Any]) throws -> [String: Any] {
        try #require((status["targets"] as? [[String: Any]])?.first { $0["email"] as? String == email })
    }

    @Test("Postfix relays the letters, the ministry's server refuses the president, Postfix's own DSNs land in a Maildir, and ingest bounces and disables", arguments: StoreKind.allCases)
    func postfixEndToEnd(_ store: StoreKind) throws {
        // Given a relay (Postfix) in front of a destination that has no mailbox for the president
        let cli = try CLIRunner(store: store)
        let destination = try SMTPTestServer(["--reject-rcpt", "president@"])
        defer { destination.stop() }
        let postfix = try PostfixInstance(folder: cli.path("postfix"), relayPort: destination.port, bounceDomain: Self.bounceDomain)
        defer { postfix.stop() }
        try cli.prepareExample()
        try Self.writeConfig(cli, url: postfix.url)
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)

        // When the letters are sent: the relay accepts them all
        let send = try cli.run("send")
        #expect(send.code == 0, "\(send.stdout) \(send.stderr)")
        #expect(try cli.statusJSON()["letters"].flatMap { $0 as? [String: Int] }?["sent"] == 95)
        // Then Postfix writes one bounce per letter to the president, to each letter's own return path
        #expect(cli.waitUntil(seconds: 30) { postfix.newMessages().count == 20 }, "\(postfix.newMessages().count) bounces; log:\n\(postfix.log.suffix(3000))")
        // and delivers the others, which may still be on their way when the bounces are in
        #expect(try cli.waitUntil(seconds: 30) { try destination.received().count >= 75 })
        let delivered = try destination.received()
        #expect(delivered.count == 75 && delivered.allSatisfy { $0.mailFrom.hasPrefix("bounces+l") && $0.mailFrom.hasSuffix("@\(Self.bounceDomain)") },
                "\(delivered.prefix(2).map(\.mailFrom))")

        // When the Maildir is ingested
        let ingest = try cli.run("bounces", "ingest", "--maildir", postfix.maildir)
        #expect(ingest.code == 0, "\(ingest.stderr)")
        #expect(ingest.stdout.contains("read 20 messages: 20 mailbox; 20 acted on"), "\(ingest.stdout)")

        // Then the president's letters bounced and the target is disabled; the others are untouched
        let status = try cli.statusJSON()
        #expect((status["letters"] as? [String: Int])?["bounced"] == 20 && (status["letters"] as? [String: Int])?["sent"] == 75)
        let president = try Self.target("president@example.org", in: status)
        #expect(president["disabled"] as? Bool == true && president["bounced"] as? Int == 20)
        #expect((president["disabledReason"] as? String)?.contains("5.1.1") == true, "\(president)")
        #expect((president["bounces"] as? [String: Int])?["mailbox"] == 20)
        let prosecutor = try Self.target("prosecutor-general@example.org", in: status)
        #expect(prosecutor["disabled"] as? Bool == false && prosecutor["bounced"] as? Int == 0 && prosecutor["sent"] as? Int == 20)
        // Every message was moved to cur/ and flagged seen; a rerun reads nothing
        #expect(postfix.newMessages().isEmpty)
        let cur = try FileManager.default.contentsOfDirectory(atPath: postfix.maildir + "/cur")
        #expect(cur.count == 20 && cur.allSatisfy { $0.hasSuffix(":2,S") })
        #expect(try cli.run("bounces", "ingest", "--maildir", postfix.maildir).stdout.contains("read 0 messages"))
        // The same bounce through a mail system's pipe: accepted (0), and changes nothing
        let pipe = try cli.pipeline("\"$APPEAL\" bounces ingest - < '\(postfix.maildir)/cur/\(cur[0])' > piped.txt")
        #expect(pipe == 0)
        #expect(try String(contentsOfFile: cli.path("piped.txt"), encoding: .utf8).contains("already ingested"))
        let list = try cli.run("bounces", "list", "--campaign", CLIRunner.slug, "--json")
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(listed.count == 20 && listed.allSatisfy { $0["verp"] as? String == "letter" && $0["class"] as? String == "mailbox" })
    }

    @Test("under VERP the supporter's copy goes apart with the plain sender, and --test-to samples carry a test token", arguments: StoreKind.allCases)
    func envelopes(_ store: StoreKind) throws {
        let cli = try CLIRunner(store: store)
        let server = try SMTPTestServer()
        defer { server.stop() }
        try cli.prepareExample()
        try """
            { "database": "appeals.sqlite",
              "smtp": { "url": "\(server.url)", "security": "none", "timeoutSeconds": 10, "connections": 1 },
              "sender": { "bounceAddress": "bounces@\(Self.bounceDomain)", "copyToSupporter": true },
              "limits": { "messagesPerSecond": 0 } }
            """.write(toFile: cli.path("appeal.json"), atomically: true, encoding: .utf8)
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        let test = try cli.run("send", "--campaign", CLIRunner.slug, "--test-to", "tester@example.net")
        #expect(test.code == 0, "\(test.stderr)")
        let samples = try server.received()
        #expect(!samples.isEmpty && samples.allSatisfy { $0.mailFrom.hasPrefix("bounces+t") && $0.recipients == ["tester@example.net"] })
        try #require(try cli.run("send", "--limit", "5").code == 0)
        let letters = try server.received().dropFirst(samples.count)
        let toTargets = letters.filter { $0.mailFrom.hasPrefix("bounces+l") }, copies = letters.filter { $0.mailFrom == "appeals@example.org" }
        #expect(toTargets.count == 5 && copies.count == 5, "\(letters.map { ($0.mailFrom, $0.recipients) })")
        let targetEmails = Set(try String(contentsOfFile: CLIRunner.exampleCampaign + "/targets.csv", encoding: .utf8)
            .split(separator: "\n").flatMap { $0.split(separator: ",").filter { $0.contains("@") }.map(String.init) })
        #expect(toTargets.allSatisfy { $0.recipients.count == 1 && targetEmails.contains($0.recipients[0]) })
        #expect(copies.allSatisfy { $0.recipients.count == 1 && !targetEmails.contains($0.recipients[0]) })
        // The same message both times: one Message-ID, one text.
        #expect(Set(toTargets.map(\.data)) == Set(copies.map(\.data)))
        // A bounce address with '+' is refused, naming the key.
        try """
            { "sender": { "bounceAddress": "bounces+x@example.org" } }
            """.write(toFile: cli.path("bad.json"), atomically: true, encoding: .utf8)
        let bad = try cli.run("status", "--campaign", CLIRunner.slug, "--config", cli.path("bad.json"))
        #expect(bad.code == 2 && bad.stderr.contains("sender.bounceAddress"), "\(bad.stderr)")
    }

    /// A Maildir holding `count` distinct bounces about addresses that no letter went to.
    static func maildir(_ cli: CLIRunner, count: Int) throws -> String {
        let folder = cli.path("Maildir")
        for sub in ["new", "cur", "tmp"] { try FileManager.default.createDirectory(atPath: "\(folder)/\(sub)", withIntermediateDirectories: true) }
        for index in 0..<count {
            let text = Fixtures.bounce("qmail.eml", ["VERP": "appeals@example.org", "RCPT": "nobody\(index)@example.com",
                                                     "MESSAGE_ID": "<m\(index)@example.org>"])
            try text.write(toFile: "\(folder)/new/\(1_700_000_000 + index).M\(index)P1.test", atomically: false, encoding: .utf8)
        }
        return folder
    }

    @Test("two ingest runs at once on one Maildir read each message once", arguments: StoreKind.allCases)
    func concurrentMaildir(_ store: StoreKind) throws {
        let cli = try CLIRunner(store: store)
        try cli.prepareExample()
        let folder = try Self.maildir(cli, count: 300)
        let runs = try (0..<2).map { _ in try cli.start(["bounces", "ingest", "--maildir", folder]) }
        let results = try runs.map { try $0.finish() }
        #expect(results.allSatisfy { $0.code == 0 }, "\(results.map(\.stderr))")
        let counts = results.map { result in Int(result.stdout.split(separator: "\n").last?.split(separator: " ").dropFirst().first ?? "") ?? -1 }
        #expect(counts.reduce(0, +) == 300, "\(counts)")
        #expect(!results.contains { $0.stdout.contains("already ingested") })
        let list = try cli.run("bounces", "list", "--campaign", CLIRunner.slug, "--limit", "1000", "--json")
        #expect((try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [Any])?.count == 300)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder + "/cur").filter { $0.hasSuffix(":2,S") }.count == 300)
    }

    @Test("a Maildir's links, folders and pipes are left and named, never read; an empty file is recorded")
    func oddMaildirEntries() throws {
        let cli = try CLIRunner()
        try cli.prepareExample()
        let folder = try Self.maildir(cli, count: 1)
        try "root:secret:1:0\n".write(toFile: cli.path("secret.txt"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: folder + "/new/link", withDestinationPath: cli.path("secret.txt"))
        try FileManager.default.createSymbolicLink(atPath: folder + "/new/dangling", withDestinationPath: cli.path("nowhere"))
        try FileManager.default.createDirectory(atPath: folder + "/new/folder", withIntermediateDirectories: false)
        #expect(mkfifo(folder + "/new/pipe", 0o600) == 0)
        _ = FileManager.default.createFile(atPath: folder + "/new/empty", contents: Data())
        // A flag a delivery agent set stays; a byte that is not UTF-8 comes back as it was.
        let latin1 = Data("From: x@example.org\nSubject: caf".utf8) + Data([0xE9]) + Data("\n\nbody\n".utf8)
        _ = FileManager.default.createFile(atPath: folder + "/new/flagged:2,F", contents: latin1)
        let result = try cli.run("bounces", "ingest", "--maildir", folder)
        #expect(result.code == 0, "\(result.stderr)")
        for (name, kind) in [("link", "a symbolic link"), ("dangling", "a symbolic link"), ("folder", "a folder"), ("pipe", "a named pipe")] {
            #expect(result.stderr.contains("\(name) not read, left in the Maildir: not a regular file but \(kind)"), "\(result.stderr)")
        }
        #expect(result.stdout.contains("empty: unrecognized (empty message)") && result.stdout.contains("read 3 messages"), "\(result.stdout)")
        #expect(FileManager.default.fileExists(atPath: folder + "/cur/flagged:2,FS"))
        let listing = try #require(try JSONSerialization.jsonObject(with: Data(try cli.run("bounces", "list", "--campaign", CLIRunner.slug, "--json").stdout.utf8)) as? [[String: Any]])
        let flaggedId = try #require(listing.first { ($0["source"] as? String)?.hasSuffix("flagged") == true }?["id"] as? Int)
        #expect(try cli.pipeline("\"$APPEAL\" bounces show \(flaggedId) > shown.eml") == 0)
        #expect(FileManager.default.contents(atPath: cli.path("shown.eml")) == latin1)
        #expect(try cli.run("bounces", "list", "--campaign", CLIRunner.slug, "--limit", "0").code == 2)
        let list = try cli.run("bounces", "list", "--campaign", CLIRunner.slug, "--json")
        let shown = try cli.run("bounces", "show", "1").stdout
        #expect(!list.stdout.contains("secret") && !shown.contains("root:secret"))
    }

    @Test("a message that cannot be opened is named with the reason on every run, and read once its permissions are mended")
    func unopenableMessage() throws {
        let cli = try CLIRunner()
        try cli.prepareExample()
        let folder = try Self.maildir(cli, count: 2)
        let name = "1700000000.M0P1.test"
        // Root reads whatever the permissions say: as root, the run is made as nobody, who owns nothing here.
        var command = "\"$APPEAL\""
        if geteuid() == 0 {
            try FileManager.default.copyItem(atPath: CLIRunner.executable.path, toPath: cli.path("appeal"))
            #expect(try cli.pipeline("chmod -R a+rwX . && chmod a+rwx \"$PWD\"") == 0)
            command = "runuser -u nobody -- ./appeal"
        }
        #expect(chmod("\(folder)/new/\(name)", 0) == 0)
        for run in 1...2 {
            #expect(try cli.pipeline("\(command) bounces ingest --maildir Maildir > out.txt 2> err.txt") == 0)
            let out = try String(contentsOfFile: cli.path("out.txt"), encoding: .utf8)
            let err = try String(contentsOfFile: cli.path("err.txt"), encoding: .utf8)
            #expect(err.contains("\(name)") && err.contains("not read, left in the Maildir: cannot open it: Permission denied"), "run \(run): \(err)")
            #expect(out.contains(run == 1 ? "read 1 message" : "read 0 messages") && out.contains("1 not read"), "run \(run): \(out)")
        }
        let moved = try #require(try FileManager.default.contentsOfDirectory(atPath: folder + "/cur").first { $0.hasPrefix(name) })
        #expect(chmod("\(folder)/cur/\(moved)", 0o666) == 0)
        #expect(try cli.pipeline("\(command) bounces ingest --maildir Maildir > out.txt 2> err.txt") == 0)
        #expect(try String(contentsOfFile: cli.path("out.txt"), encoding: .utf8).contains("read 1 message: 1 mailbox"))
        #expect(try String(contentsOfFile: cli.path("err.txt"), encoding: .utf8).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder + "/cur").filter { $0.hasSuffix(":2,S") }.count == 2)
    }

    @Test("an mbox with random bytes, malformed MIME and bounces: each message gets its line, the run goes on, a rerun changes nothing", arguments: StoreKind.allCases)
    func mbox(_ store: StoreKind) throws {
        let cli = try CLIRunner(store: store)
        try cli.prepareExample()
        var random = SeededRandom(seed: 5)
        let noise = String(decoding: (0..<3000).map { _ in UInt8.random(in: 0x20...0x7E, using: &random) }, as: UTF8.self)
        let qmail = Fixtures.bounce("qmail.eml", ["VERP": "x@example.org", "RCPT": "gone@example.com", "MESSAGE_ID": "<q@example.org>"])
        let mbox = ["From MAILER-DAEMON Tue Dec  1 02:47:00 2026\n" + qmail,
                    "From junk Tue Dec  1 02:47:01 2026\n" + noise + "\n",
                    "From MAILER-DAEMON Tue Dec  1 02:47:02 2026\n" + String(decoding: Fixtures.bytes("bounces/malformed.eml"), as: UTF8.self)]
            .joined(separator: "\n")
        try mbox.write(toFile: cli.path("bounces.mbox"), atomically: true, encoding: .utf8)
        let first = try cli.run("bounces", "ingest", "--mbox", cli.path("bounces.mbox"))
        #expect(first.code == 0, "\(first.stderr)")
        #expect(first.stdout.contains("bounces.mbox #1: mailbox: gone@example.com: no letter sent to gone@example.com"), "\(first.stdout)")
        #expect(first.stdout.contains("#2: unrecognized (no header fields: not a mail message)"), "\(first.stdout)")
        #expect(first.stdout.contains("#3: unrecognized"), "\(first.stdout)")
        #expect(first.stdout.contains("read 3 messages"), "\(first.stdout)")
        let again = try cli.run("bounces", "ingest", "--mbox", cli.path("bounces.mbox"))
        #expect(again.code == 0 && again.stdout.contains("3 already ingested"), "\(again.stdout)")
        let list = try cli.run("bounces", "list", "--campaign", CLIRunner.slug)
        #expect(list.stdout.components(separatedBy: "[matched to no campaign]").count == 4, "\(list.stdout)")
        let show = try cli.run("bounces", "show", "2")
        #expect(show.code == 0 && show.stdout.contains(String(noise.prefix(100))))
        // One message alone is not an mbox: refused before anything is stored.
        try qmail.replacingOccurrences(of: "gone@", with: "other@").write(toFile: cli.path("one.eml"), atomically: true, encoding: .utf8)
        let single = try cli.run("bounces", "ingest", "--mbox", cli.path("one.eml"))
        #expect(single.code == 2 && single.stderr.contains("one.eml:1") && single.stderr.contains("does not start with a \"From \" line"), "\(single.stderr)")
        #expect(try cli.run("bounces", "list", "--campaign", CLIRunner.slug, "--json").stdout.contains("other@") == false)
    }

    @Test("what a bounce says reaches the terminal without its escape sequences", arguments: StoreKind.allCases)
    func terminalSafety(_ store: StoreKind) throws {
        let cli = try CLIRunner(store: store)
        try cli.prepareExample()
        // An escape sequence that sets the terminal's title, raw in the From field and encoded in the Subject.
        let encoded = "=?utf-8?B?\(Data("\u{1B}]0;owned\u{07}\u{9B}31m".utf8).base64EncodedString())?="
        let message = "From: Mailer \u{1B}[2J<daemon@example.net>\nSubject: \(encoded)\n\nUndeliverable\n"
        try message.write(toFile: cli.path("odd.eml"), atomically: true, encoding: .utf8)
        #expect(try cli.pipeline("\"$APPEAL\" bounces ingest - < odd.eml") == 0)
        let list = try cli.run("bounces", "list", "--campaign", CLIRunner.slug)
        #expect(list.code == 0 && list.stdout.contains("Mailer"), "\(list.stdout)")
        #expect(!list.stdout.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{07}" || $0 == "\u{9B}" }, "\(list.stdout)")
        // The JSON keeps the text, escaped.
        let json = try cli.run("bounces", "list", "--campaign", CLIRunner.slug, "--json").stdout
        #expect(json.contains("\\u001b[2J") && json.contains("\\u009b31m"), "\(json)")
        #expect(!json.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" || (0x7F...0x9F).contains($0.value) }, "\(json)")
        // The message itself: byte for byte into a file, without its escapes on a terminal (script(1) gives it one).
        #expect(try cli.pipeline("\"$APPEAL\" bounces show 1 > shown.eml") == 0)
        #expect(FileManager.default.contents(atPath: cli.path("shown.eml")) == Data(message.utf8))
        #expect(try cli.pipeline("script -qec '\"$APPEAL\" bounces show 1' /dev/null > terminal.txt") == 0)
        let terminal = try #require(FileManager.default.contents(atPath: cli.path("terminal.txt")))
        #expect(String(decoding: terminal, as: UTF8.self).contains("Undeliverable") && !terminal.contains(0x1B), "\(terminal)")
    }

    @Test("a mail system's pipe: 0 once stored, 75 when the database cannot be written, 2 never")
    func standardInput() throws {
        let cli = try CLIRunner()
        try cli.prepareExample()
        let qmail = Fixtures.bounce("qmail.eml", ["VERP": "x@example.org", "RCPT": "gone@example.com", "MESSAGE_ID": "<q@example.org>"])
        try qmail.write(toFile: cli.path("bounce.eml"), atomically: true, encoding: .utf8)
        #expect(try cli.pipeline("\"$APPEAL\" bounces ingest - < bounce.eml") == 0)
        // Once stored, output that cannot be written does not ask the mail system to deliver it again.
        let other = qmail.replacingOccurrences(of: "gone@", with: "left@")
        try other.write(toFile: cli.path("other.eml"), atomically: true, encoding: .utf8)
        #expect(try cli.pipeline("\"$APPEAL\" bounces ingest - < other.eml > /dev/full") == 0)
        #expect(try cli.run("bounces", "list", "--campaign", CLIRunner.slug).stdout.contains("left@example.com"))
        // A database that is not one, and no database at all: the mail system keeps the message and retries.
        try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: cli.path("broken.sqlite")))
        #expect(try cli.pipeline("\"$APPEAL\" bounces ingest --db broken.sqlite - < bounce.eml 2> err.txt") == 75)
        #expect(try String(contentsOfFile: cli.path("err.txt"), encoding: .utf8).contains("broken.sqlite"))
        #expect(try cli.pipeline("\"$APPEAL\" bounces ingest --db missing.sqlite - < bounce.eml") == 75)
        // A message of 12 MB through the pipe: read whole, stored with its problem, accepted.
        #expect(try cli.pipeline("\"$APPEAL\" bounces ingest - < <(head -c 12000000 /dev/zero | tr '\\0' 'a') > huge.txt") == 0)
        #expect(try String(contentsOfFile: cli.path("huge.txt"), encoding: .utf8).contains("larger than the 10 MiB limit"))
        // Bad arguments are still the user's mistake.
        #expect(try cli.run("bounces", "ingest").code == 2)
        #expect(try cli.run("bounces", "ingest", "--maildir", cli.path("nowhere")).code == 2)
    }
}
