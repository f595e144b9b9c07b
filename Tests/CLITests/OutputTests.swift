import Foundation
import Testing
import TestSupport

@Suite("Output goes where it is named, or the command fails saying so", .serialized)
struct OutputTests {
    @Test("a full standard output is an error (exit 1), not lost output", arguments: [
        ["status", "--campaign", CLIRunner.slug, "--json"],
        ["letter", "--campaign", CLIRunner.slug, "--supporter", "elodie.marchand@example.net"],
        ["export", "--campaign", CLIRunner.slug],
        ["export", "--campaign", CLIRunner.slug, "--out", "/dev/full"],
    ])
    func fullOutput(_ arguments: [String]) throws {
        let cli = try CLIRunner()
        try cli.prepareExample()
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        let result = try cli.run(arguments, standardOutput: "/dev/full")
        #expect(result.code == 1, "\(result.stderr)")
        #expect(result.stderr.contains("No space left on device") && !result.stderr.contains("Fatal"), "\(result.stderr)")
    }

    @Test("--help to a full output fails too; a closed pipe is an error, not a silent death by signal")
    func helpAndPipes() throws {
        let cli = try CLIRunner()
        let help = try cli.run(["--help"], standardOutput: "/dev/full")
        #expect(help.code == 1 && help.stderr.contains("No space left on device"), "\(help.stderr)")
        try cli.prepareExample()
        try #require(try cli.run("supporter", "import", try cli.writeSupporters(3000), "--campaign", CLIRunner.slug).code == 0)
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        // A reader that takes ten bytes and goes away, as `| head -c 10` does.
        let code = try cli.pipeline("\"$APPEAL\" export --campaign \(CLIRunner.slug) 2> err.txt | head -c 10 > /dev/null")
        let error = try String(contentsOfFile: cli.path("err.txt"), encoding: .utf8)
        #expect(code == 1 && error.contains("Broken pipe"), "exit \(code): \(error)")
    }

    @Test("export --out into a folder that does not exist is bad input; /dev/stdout is written through")
    func outPaths() throws {
        let cli = try CLIRunner()
        try cli.prepareExample()
        let missing = try cli.run("export", "--campaign", CLIRunner.slug, "--out", "no/such/folder/x.csv")
        #expect(missing.code == 2 && missing.stderr.contains("No such file or directory"), "\(missing.stderr)")
        // Through a pipe, as `export --out /dev/stdout | …` does.
        #expect(try cli.pipeline("\"$APPEAL\" export --campaign \(CLIRunner.slug) --out /dev/stdout | cat > piped.csv") == 0)
        let piped = try String(contentsOfFile: cli.path("piped.csv"), encoding: .utf8)
        // The CSV and nothing else: no "exported … to /dev/stdout" after its last line.
        #expect(piped.hasPrefix("supporter_name,") && !piped.contains("exported"))
    }

    @Test("export --out never replaces a symbolic link or a folder, and writes through a FIFO")
    func specialFiles() throws {
        let cli = try CLIRunner()
        try cli.prepareExample()
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        let target = cli.path("elsewhere.txt")
        try "keep me\n".write(toFile: target, atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: cli.path("link.csv"), withDestinationPath: target)
        let link = try cli.run("export", "--campaign", CLIRunner.slug, "--out", "link.csv")
        #expect(link.code == 2 && link.stderr.contains("symbolic link"), "\(link.stderr)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: cli.path("link.csv")) == target)
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep me\n")

        try FileManager.default.createDirectory(atPath: cli.path("folder.csv"), withIntermediateDirectories: false)
        #expect(try cli.run("export", "--campaign", CLIRunner.slug, "--out", "folder.csv").code == 2)

        #expect(mkfifo(cli.path("pipe.csv"), 0o600) == 0)
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/bin/sh")
        reader.arguments = ["-c", "cat \(cli.path("pipe.csv")) > \(cli.path("from-pipe.csv"))"]
        try reader.run()
        let fifo = try cli.run("export", "--campaign", CLIRunner.slug, "--out", "pipe.csv")
        reader.waitUntilExit()
        #expect(fifo.code == 0, "\(fifo.stderr)")
        var info = stat()
        #expect(lstat(cli.path("pipe.csv"), &info) == 0 && info.st_mode & S_IFMT == S_IFIFO, "the FIFO is still a FIFO")
        let lines = try String(contentsOfFile: cli.path("from-pipe.csv"), encoding: .utf8).split(whereSeparator: \.isNewline)
        #expect(lines.count == 96)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cli.folder.path).allSatisfy { !$0.contains(".partial") })
    }

    @Test("an output that fails midway through a large export is reported in its own words, not as the store's", arguments: StoreKind.allCases)
    func outputFailsMidway(_ store: StoreKind) throws {
        let cli = try CLIRunner(store: store)
        try cli.prepareExample()
        try #require(try cli.run("supporter", "import", try cli.writeSupporters(2_000), "--campaign", CLIRunner.slug).code == 0)
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        let result = try cli.run(["export", "--campaign", CLIRunner.slug], standardOutput: "/dev/full")
        #expect(result.code == 1 && result.stderr == "error: cannot write standard output: No space left on device\n", "\(result.stderr)")
    }

    @Test("export --out stopped by a signal while it writes leaves no partial file behind (it holds personal data)",
          arguments: [SIGINT, SIGTERM, SIGHUP])
    func signalDuringExport(_ number: Int32) throws {
        let cli = try CLIRunner(store: .postgres)
        try cli.prepareExample()
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        let server = try PostgresInstance.shared()
        let name = try #require(cli.database?.split(separator: "/").last?.split(separator: "?").first.map(String.init))
        // Another session holds the letters' table: export has opened its file and waits to read them.
        let holder = Thread {
            _ = try? server.query("BEGIN; LOCK TABLE letter IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60); COMMIT", database: name)
        }
        holder.start()
        #expect(cli.waitUntil { (try? server.query("SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND relation = 'letter'::regclass", database: name)) == ["1"] })
        let export = try cli.start(["export", "--campaign", CLIRunner.slug, "--out", "letters.csv"])
        let partial = { (try? FileManager.default.contentsOfDirectory(atPath: cli.folder.path))?.filter { $0.hasPrefix("letters.csv") } ?? [] }
        #expect(cli.waitUntil { partial().count == 1 }, "\(partial())")
        kill(export.process.processIdentifier, number)
        let result = try export.finish()
        #expect(result.signaled && result.code == number, "\(result.code) \(result.stderr)")
        #expect(partial().isEmpty, "\(partial())")
        _ = try server.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)' AND pid <> pg_backend_pid()")
    }

    @Test("two queue runs at once: the second waits for the first, then adds nothing")
    func twoQueues() throws {
        let cli = try CLIRunner()
        try cli.prepareExample()
        try #require(try cli.run("supporter", "import", try cli.writeSupporters(2000), "--campaign", CLIRunner.slug).code == 0)
        let first = try cli.start(["queue", "--campaign", CLIRunner.slug])
        let second = try cli.start(["queue", "--campaign", CLIRunner.slug])
        let results = try [first, second].map { try $0.finish() }
        #expect(results.allSatisfy { $0.code == 0 }, "\(results.map(\.stderr))")
        let queued = results.map { $0.stdout.split(separator: " ")[1] }
        #expect(Set(queued) == ["10095", "0"], "\(results.map(\.stdout))")
        #expect(results.contains { $0.stderr.contains("another queue run") } || results.allSatisfy { !$0.stderr.contains("locked") })
        #expect((try cli.statusJSON()["letters"] as? [String: Int])?["queued"] == 10095)
    }

    @Test("send --dry-run checks due letters a page at a time, every one of them")
    func dryRunPages() throws {
        let cli = try CLIRunner()
        try cli.prepareExample()
        try #require(try cli.run("supporter", "import", try cli.writeSupporters(500), "--campaign", CLIRunner.slug).code == 0)
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        try cli.writeConfig(url: "file://\(cli.path("outbox"))")
        let result = try cli.run("send", "--dry-run")
        #expect(result.code == 0, "\(result.stderr)")
        #expect(result.stdout.contains("dry run: 2595 messages built and checked"), "\(result.stdout)")
        #expect(try cli.run("send", "--dry-run", "--limit", "1500").stdout.contains("dry run: 1500 messages"))
        #expect((try cli.statusJSON()["letters"] as? [String: Int])?["queued"] == 2595)
    }
}
