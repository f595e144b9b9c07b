import Appeals
import Foundation
import GRDB
import Testing
import TestSupport

@Suite("Crash suite: SIGKILL at random moments", .serialized)
struct CrashTests {
    /// The Message-ID header of a raw message.
    static func messageID(_ data: Data) -> String? {
        guard let text = String(data: data.prefix(4096), encoding: .utf8),
              let range = text.range(of: "\r\nMessage-ID: ")
        else { return nil }
        return String(String.UnicodeScalarView(text[range.upperBound...].unicodeScalars.prefix { $0 != "\r" }))
    }

    /// How many times the server received each Message-ID.
    static func receivedMessageIDs(_ server: SMTPTestServer) throws -> [String: Int] {
        var received: [String: Int] = [:]
        for message in try server.received() {
            if let id = messageID(message.data) { received[id, default: 0] += 1 }
        }
        return received
    }

    /// What the server received against the letters (Message-ID, marked as a possible duplicate): the letters
    /// never received, the Message-IDs received more than once, and those marked.
    static func audit(_ server: SMTPTestServer, letters: [(messageId: String, marked: Bool)])
        throws -> (lost: [String], duplicated: Set<String>, reported: Set<String>) {
        let received = try receivedMessageIDs(server)
        return (letters.map(\.messageId).filter { received[$0] == nil }, Set(received.filter { $0.value > 1 }.keys),
                Set(letters.filter(\.marked).map(\.messageId)))
    }

    @Test("send killed 25 times on 2,000 letters: none lost; duplicates only what was on the wire, every one reported; none left sending")
    func killedSends() throws {
        let server = try SMTPTestServer()
        let cli = try CLIRunner()
        try cli.prepareExample()
        try #require(try cli.run("supporter", "import", try cli.writeSupporters(400), "--campaign", CLIRunner.slug).code == 0)
        try cli.writeConfig(url: server.url)
        // The 20 sample supporters write 95 letters, the 400 generated ones 2,000 more.
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)

        let connections = 2
        let database = try AppDatabase(path: cli.path("appeals.sqlite"))
        var random = SeededRandom(seed: 9)
        var kills = 0
        var runs = 0
        // Per kill: the letters the next run would report, settled here as it would settle them.
        var reportedPerKill: [Int] = []
        while kills < 25 && runs < 300 {
            // Killed while sending: once the server has a new message, at a random moment up to 60 ms later.
            let before = try server.received().count
            let running = try cli.start(["send"])
            let deadline = Date().addingTimeInterval(30)
            while running.process.isRunning, Date() < deadline, try server.received().count == before { usleep(2_000) }
            usleep(UInt32.random(in: 0...60_000, using: &random))
            if running.process.isRunning {
                kill(running.process.processIdentifier, SIGKILL)
                kills += 1
            }
            _ = try running.finish()
            runs += 1
            let path = database.path
            reportedPerKill.append(try database.recoverAbandoned(now: Date(), policy: RetryPolicy(maxAttempts: 5, baseSeconds: 60, maxSeconds: 3600)) {
                SendRunLease.isAlive($0, databasePath: path)
            })
        }
        #expect(kills == 25)
        // Only the letters on the wire at the moment of the kill, one per connection, may have been received
        // without a recorded reply; allow one more per connection for a reply the server sent as the process died.
        #expect(reportedPerKill.allSatisfy { $0 <= 2 * connections }, "reported per kill: \(reportedPerKill)")
        var finished = false
        for _ in 0..<5 where !finished {
            let result = try cli.run("send")
            finished = result.code == 0 && result.stdout.hasPrefix("sent 0,")
        }
        #expect(finished)

        let letters = try database.writer.read { db in try Letter.fetchAll(db) }
        #expect(letters.count == 2095)
        let (lost, duplicated, reported) = try Self.audit(server, letters: letters.map { ($0.messageId, $0.possibleDuplicate) })
        #expect(lost.isEmpty, "lost: \(lost.count)")
        #expect(duplicated.isSubset(of: reported), "unreported duplicates: \(duplicated.subtracting(reported))")
        #expect(duplicated.count <= kills * connections, "delivered twice: \(duplicated.count) in \(kills) kills")
        // The kills came while messages were on the wire: some were reported.
        #expect(!reported.isEmpty)
        #expect(letters.allSatisfy { $0.status == .sent })
        #expect(try cli.statusJSON()["possibleDuplicates"] as? Int == reported.count)
        print("crash suite: \(kills) kills over \(runs) runs at \(connections) connections; \(letters.count) letters, \(lost.count) lost; \(duplicated.count) delivered twice, \(reported.count) reported as possible duplicates (at most \(reportedPerKill.max() ?? 0) per kill)")
    }

    @Test("queue killed midway leaves only whole letters; the next queue completes it")
    func killedQueue() throws {
        let cli = try CLIRunner()
        try cli.prepareExample()
        try #require(try cli.run("supporter", "import", try cli.writeSupporters(3000), "--campaign", CLIRunner.slug).code == 0)
        let database = try AppDatabase(path: cli.path("appeals.sqlite"))
        let running = try cli.start(["queue", "--campaign", CLIRunner.slug])
        // Kill it once it is committing: after its first batch, before its last.
        let deadline = Date().addingTimeInterval(30)
        func committed() throws -> Int { try database.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM letter") } ?? 0 }
        while running.process.isRunning, Date() < deadline, try committed() == 0 {
            usleep(5_000)
        }
        usleep(50_000)
        let killed = running.process.isRunning
        if killed { kill(running.process.processIdentifier, SIGKILL) }
        _ = try running.finish()
        #expect(killed, "queue finished before it could be killed; the test needs more supporters")

        func perSupporter() throws -> [Int] {
            try database.writer.read { db in
                try Int.fetchAll(db, sql: "SELECT (SELECT COUNT(*) FROM letter l WHERE l.supporter_id = s.id) FROM supporter s")
            }
        }
        let partial = try perSupporter().filter { $0 > 0 }.count
        #expect(partial > 0 && partial < 3020)
        // Each supporter has all their letters or none: a batch commits whole.
        let incomplete = try database.writer.read { db in
            try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM supporter s WHERE s.country = 'FR'
                AND (SELECT COUNT(*) FROM letter l WHERE l.supporter_id = s.id) NOT IN (0, 5)
                """)
        }
        #expect(incomplete == 0)
        #expect(try database.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM letter l LEFT JOIN letter_text t ON t.letter_id = l.id WHERE t.body IS NULL OR t.body = '' OR t.subject = ''") } == 0)

        let result = try cli.run("queue", "--campaign", CLIRunner.slug)
        #expect(result.code == 0)
        #expect(try database.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM letter") } == 95 + 3000 * 5)
        print("queue crash: killed with \(partial) of 3,020 supporters' letters committed; the rerun completed the rest")
    }
}
