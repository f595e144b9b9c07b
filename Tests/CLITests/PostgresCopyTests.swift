import Appeals
import Foundation
import GRDB
import Testing
import TestSupport

/// `db copy`: a running campaign moved from the SQLite file into a real PostgreSQL server.
@Suite("db copy to a real PostgreSQL server") struct PostgresCopyTests {
    @Test("everything is copied and checked; the copy keeps every constraint; a second copy, a sender on the file and bad URLs are refused")
    func copy() throws {
        let postgres = try PostgresInstance()
        let cli = try CLIRunner()
        try cli.prepareExample()
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        try #require(try cli.run("send", "--limit", "7").code == 0)
        // A bounce for no letter, kept whole, and an erased supporter: both go across as they are.
        let bounce = Fixtures.bounce("qmail.eml", ["VERP": "x@example.org", "RCPT": "gone@example.com", "MESSAGE_ID": "<q@example.org>"])
        try bounce.write(toFile: cli.path("bounce.eml"), atomically: true, encoding: .utf8)
        try #require(try cli.pipeline("\"$APPEAL\" bounces ingest - < bounce.eml > /dev/null") == 0)
        let erased = try #require(try String(contentsOfFile: CLIRunner.exampleCampaign + "/supporters.sample.csv", encoding: .utf8)
            .split(separator: "\n").last?.split(separator: ",")[1])
        try #require(try cli.run("supporter", "erase", "--campaign", CLIRunner.slug, "--email", String(erased)).code == 0)

        // A database that holds no appeal data is refused by the other commands, and left as it was.
        let empty = try cli.run("--db", postgres.url(), "status", "--campaign", CLIRunner.slug)
        #expect(empty.code == 2 && empty.stderr.contains("holds no appeal data"), "\(empty.stderr)")
        #expect(try postgres.query("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == ["0"])

        let copied = try cli.run("db", "copy", "--to", postgres.url())
        #expect(copied.code == 0, "\(copied.stderr)")
        #expect(copied.stdout.contains("letter: 95 rows") && copied.stdout.contains("counts checked"), "\(copied.stdout)")

        // The same data on both sides, by content, not only by count.
        let sqlite = try AppDatabase(path: cli.path("appeals.sqlite"))
        let letters = try sqlite.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT id, message_id, status, attempts, coalesce(last_reply, '') FROM letter ORDER BY id")
                .map { "\($0[0] as Int64)|\($0[1] as String)|\($0[2] as String)|\($0[3] as Int)|\($0[4] as String)" }
        }
        #expect(try postgres.query("SELECT id, message_id, status, attempts, coalesce(last_reply, '') FROM letter ORDER BY id") == letters)
        #expect(Set(letters.map { $0.split(separator: "|")[2] }) == ["queued", "sent", "cancelled"], "\(letters)")
        let bodies = try sqlite.writer.read { db in try String.fetchAll(db, sql: "SELECT subject || body FROM letter_text ORDER BY letter_id") }
        #expect(try postgres.query("SELECT '=' || translate(encode(convert_to(subject || body, 'UTF8'), 'base64'), E'\\n', '') FROM letter_text ORDER BY letter_id")
                == bodies.map { "=" + Data($0.utf8).base64EncodedString() })
        #expect(try postgres.query("SELECT count(*) FROM supporter WHERE erased_at IS NOT NULL AND email IS NULL") == ["1"])
        #expect(try postgres.query("SELECT count(*) FROM bounce_message WHERE raw IS NOT NULL") == ["1"])
        let keys = try sqlite.writer.read { db in try Row.fetchAll(db, sql: "SELECT name, hex(value) FROM secret_key ORDER BY name").map { "\($0[0] as String)|\($0[1] as String)" } }
        #expect(try postgres.query("SELECT name, upper(encode(value, 'hex')) FROM secret_key ORDER BY name") == keys)
        #expect(keys.count == 2)
        // The database keeps the rules: no second letter for a supporter and target; new ids follow the copied ones.
        #expect(throws: PostgresInstance.Failure.self) {
            try postgres.query("INSERT INTO letter (campaign_id, supporter_id, target_id, language, message_id, queued_at, due_at, updated_at) SELECT campaign_id, supporter_id, target_id, language, '<again@x>', now(), now(), now() FROM letter LIMIT 1")
        }
        #expect(try postgres.query("SELECT nextval(pg_get_serial_sequence('letter', 'id')) > max(id) FROM letter") == ["t"])
        // status says the same of both: letters by status, targets, bounces, the erased supporter.
        let onFile = try cli.run("status", "--campaign", CLIRunner.slug, "--json")
        let onPostgres = try cli.run("--db", postgres.url(), "status", "--campaign", CLIRunner.slug, "--json")
        #expect(onFile.code == 0 && onPostgres.code == 0 && onPostgres.stdout == onFile.stdout, "\(onPostgres.stderr)\n\(onFile.stdout)\n\(onPostgres.stdout)")
        // So do the lists.
        for list in [["campaign", "list"], ["target", "list", "--campaign", CLIRunner.slug], ["letter", "list", "--campaign", CLIRunner.slug]] {
            let fromFile = try cli.run(list)
            let fromPostgres = try cli.run(["--db", postgres.url()] + list)
            #expect(fromFile.code == 0 && fromFile.stdout.count > 40 && fromPostgres.stdout == fromFile.stdout, "\(list) \(fromPostgres.stderr)")
        }
        // and export writes the same rows, all of them or those of one status.
        for status in [[], ["--status", "sent"]] {
            let fromFile = try cli.run(["export", "--campaign", CLIRunner.slug] + status)
            let fromPostgres = try cli.run(["--db", postgres.url(), "export", "--campaign", CLIRunner.slug] + status)
            #expect(fromFile.code == 0 && fromPostgres.stdout == fromFile.stdout, "\(fromPostgres.stderr)")
            #expect(fromFile.stdout.split(whereSeparator: \.isNewline).count == (status.isEmpty ? 96 : 8), "\(fromFile.stdout.prefix(300))")
        }

        // Into a database that holds campaigns already: refused, nothing changes.
        let again = try cli.run("db", "copy", "--to", postgres.url())
        #expect(again.code == 2 && again.stderr.contains("already holds 1 campaign"), "\(again.stderr)")
        #expect(try postgres.query("SELECT count(*) FROM letter") == ["95"])

        // While a sender holds the file: refused, and the new database gets no campaign.
        try postgres.createDatabase("second")
        let watching = try cli.start(["send", "--watch", "--poll-seconds", "1"])
        // Its lease is a locked file beside the database.
        #expect(cli.waitUntil {
            ((try? FileManager.default.contentsOfDirectory(atPath: cli.path("appeals.sqlite.runs"))) ?? []).contains { $0.hasSuffix(".lock") && $0 != "queue.lock" }
        })
        let busy = try cli.run("db", "copy", "--to", postgres.url("second"))
        kill(watching.process.processIdentifier, SIGTERM)
        _ = try watching.finish()
        #expect(busy.code == 2 && busy.stderr.contains("a sender is running"), "\(busy.stderr)")
        #expect(try postgres.query("SELECT count(*) FROM campaign", database: "second") == ["0"])
        // A database `init` prepared has keys of its own; a copy into it brings the file's instead, so that the
        // links already mailed stay valid.
        #expect(try cli.run("--db", postgres.url("second"), "init").code == 0)
        #expect(try postgres.query("SELECT name FROM secret_key ORDER BY name", database: "second") == ["verp", "web"])
        #expect(try postgres.query("SELECT name, upper(encode(value, 'hex')) FROM secret_key ORDER BY name", database: "second") != keys)
        let intoPrepared = try cli.run("db", "copy", "--to", postgres.url("second"))
        #expect(intoPrepared.code == 0, "\(intoPrepared.stderr)")
        #expect(try postgres.query("SELECT name, upper(encode(value, 'hex')) FROM secret_key ORDER BY name", database: "second") == keys)

        // Bad URLs name the option; a password in the URL is refused; a server that is not there is told at once.
        let bad = try cli.run("db", "copy", "--to", "mysql://x@127.0.0.1/y")
        #expect(bad.code == 2 && bad.stderr.contains("--to"), "\(bad.stderr)")
        let password = try cli.run("db", "copy", "--to", "postgres://appeal:secret@127.0.0.1:\(postgres.port)/appeal")
        #expect(password.code == 2 && password.stderr.contains("databasePasswordEnv") && !password.stderr.contains("secret"), "\(password.stderr)")
        let port = try cli.run("db", "copy", "--to", "postgres://appeal@127.0.0.1:99999/appeal")
        #expect(port.code == 2 && port.stderr.contains("port 99999"), "\(port.stderr)")
        // No command prints a URL with a password in it: it is refused, and stays unsaid.
        let secret = try cli.run("--db", "postgres://appeal:S3cret@127.0.0.1:\(postgres.port)/appeal", "queue", "--campaign", CLIRunner.slug)
        #expect(secret.code == 2 && !secret.stderr.contains("S3cret") && secret.stderr.contains("databasePasswordEnv"), "\(secret.stderr)")
        let notThere = try cli.run("--db", "postgres://appeal:S3cret@127.0.0.1:\(postgres.port)/appeal", "db", "copy", "--to", postgres.url("second"))
        #expect(notThere.code == 2 && !notThere.stderr.contains("S3cret") && notThere.stderr.contains("copies from a SQLite file"), "\(notThere.stderr)")
        let down = try cli.run("db", "copy", "--to", "postgres://appeal@127.0.0.1:\(try freePort())/appeal?sslmode=disable")
        #expect(down.code == 1 && down.stderr.contains("Connection refused"), "\(down.stderr)")
    }

    @Test("an idle send --watch or serve on the file refuses the copy too: it would go on sending from the file")
    func idleServices() throws {
        let postgres = try PostgresInstance.shared()
        let cli = try CLIRunner()
        try cli.prepareExample()
        let port = try freePort()
        try """
            { "smtp": { "url": "file://./outbox" }, "web": { "listen": "127.0.0.1:\(port)", "baseURL": "http://127.0.0.1:\(port)" } }
            """.write(toFile: cli.path("appeal.json"), atomically: true, encoding: .utf8)
        // Nothing is queued: both services wait, idle.
        for command in [["send", "--watch", "--poll-seconds", "1"], ["serve", "--poll-seconds", "1"]] {
            let name = "idle_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            try postgres.createDatabase(name)
            let service = try cli.start(command)
            #expect(cli.waitUntil { (try? String(contentsOfFile: service.errFile.path, encoding: .utf8))?.contains("send --watch started") == true })
            let copy = try cli.run("db", "copy", "--to", postgres.url(name))
            kill(service.process.processIdentifier, SIGTERM)
            let stopped = try service.finish()
            #expect(copy.code == 2 && copy.stderr.contains("a sender is running"), "\(command): \(copy.stderr)")
            #expect(try postgres.query("SELECT count(*) FROM pg_tables WHERE tablename = 'campaign'", database: name) == ["0"]
                    || postgres.query("SELECT count(*) FROM campaign", database: name) == ["0"])
            #expect(stopped.code == 0, "\(stopped.stderr)")
        }
        // Once they stopped, the copy goes.
        let name = "idle_after_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try postgres.createDatabase(name)
        #expect(try cli.run("db", "copy", "--to", postgres.url(name)).code == 0)
    }
}
