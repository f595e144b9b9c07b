import Appeals
import Foundation
import GRDB
import Testing
import TestSupport
@testable import Mailer

@Suite("Crash recovery, hourly limits and back-off", .serialized)
struct RecoveryTests {
    @Test("letters left in sending by a dead run are sent again with the same Message-ID and counted as possible duplicates")
    func deadRunRecovered() async throws {
        let server = try SMTPTestServer()
        let fixture = try await DeliveryFixture(server: server)
        // A run that claimed three letters and died: it holds no lock file.
        let claimed = try fixture.store.database.claimDueLetters(
            ClaimRules(campaign: nil, limit: 3, now: DeliveryFixture.sendTime, perTargetPerHour: 0, owner: "4242-deadbeef"))
        #expect(claimed.count == 3)
        let summary = try await fixture.send()
        #expect(summary.sent == 10)
        #expect(summary.possibleDuplicates == 3)
        let letters = try fixture.letters()
        #expect(letters.filter(\.possibleDuplicate).map(\.messageId).sorted() == claimed.map(\.letter.messageId).sorted())
        #expect(try fixture.store.database.report(campaign: TestDatabase.slug).possibleDuplicates == 3)
        let ids = try server.received().map { try PythonEmail.parse(file: $0.file).messageId }
        #expect(Set(ids) == Set(letters.map(\.messageId)))
    }

    @Test("a dead run's journal settles its letters: replies recorded, letters never handed over queued silently, only those on the wire marked")
    func journalReplayed() async throws {
        let fixture = try await DeliveryFixture(server: nil, url: "file:///nonexistent")
        let database = fixture.store.database
        let owner = "4242-deadbeef"
        let claimed = try database.claimDueLetters(
            ClaimRules(campaign: nil, limit: 7, now: DeliveryFixture.sendTime, perTargetPerHour: 0, owner: owner)).map { $0.letter.id! }
        #expect(claimed.count == 7)
        let at = DeliveryFixture.sendTime
        let journal = try DeliveryJournal(databasePath: database.path, runId: owner)
        try journal.started(claimed[0])
        journal.replied(claimed[0], DeliveryOutcome(letterId: claimed[0], result: .sent, code: 250, reply: "250 2.0.0 Ok:\tqueued\r\n", at: at))
        try journal.started(claimed[1])
        journal.replied(claimed[1], DeliveryOutcome(letterId: claimed[1], result: .transient, code: 451, reply: "451 4.3.0 later", at: at))
        try journal.started(claimed[2])
        try journal.started(claimed[3])
        journal.replied(claimed[3], nil)
        try journal.started(claimed[4])
        journal.replied(claimed[4], DeliveryOutcome(letterId: claimed[4], result: .unknown, code: nil, reply: "connection lost after the message", at: at))
        // The process died in the middle of writing its last line.
        let handle = try #require(FileHandle(forWritingAtPath: journal.path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("r\t\(claimed[5])\tsen".utf8))
        try handle.close()

        let policy = RetryPolicy(maxAttempts: 5, baseSeconds: 60, maxSeconds: 3600)
        let duplicates = try database.recoverAbandoned(now: at, policy: policy) { _ in false }
        #expect(duplicates == 2)
        let letters = Dictionary(uniqueKeysWithValues: try fixture.letters().map { ($0.id!, $0) })
        #expect(letters[claimed[0]]?.status == .sent && letters[claimed[0]]?.attempts == 1 && letters[claimed[0]]?.sentAt == at)
        #expect(letters[claimed[0]]?.lastReply == "250 2.0.0 Ok: queued  ")
        #expect(letters[claimed[1]]?.status == .deferred && letters[claimed[1]]?.attempts == 1 && letters[claimed[1]]?.possibleDuplicate == false)
        #expect(letters[claimed[2]]?.status == .queued && letters[claimed[2]]?.possibleDuplicate == true)
        #expect(letters[claimed[4]]?.status == .deferred && letters[claimed[4]]?.possibleDuplicate == true)
        for quiet in [claimed[3], claimed[5], claimed[6]] {
            #expect(letters[quiet]?.status == .queued && letters[quiet]?.possibleDuplicate == false && letters[quiet]?.attempts == 0)
        }
        #expect(!FileManager.default.fileExists(atPath: journal.path))
        // Settled once: a second recovery finds nothing.
        #expect(try database.recoverAbandoned(now: at, policy: policy) { _ in false } == 0)
        #expect(try fixture.letters().map(\.status) == letters.keys.sorted().map { letters[$0]!.status })
    }

    @Test("a letter the dead run handed over again (after a 451, after giving it back) is judged by its latest hand-over: a possible duplicate, no stale reply recorded")
    func handedOverTwice() async throws {
        let fixture = try await DeliveryFixture(server: nil, url: "file:///nonexistent")
        let database = fixture.store.database
        let owner = "4343-twice"
        let claimed = try database.claimDueLetters(
            ClaimRules(campaign: nil, limit: 2, now: DeliveryFixture.sendTime, perTargetPerHour: 0, owner: owner)).map { $0.letter.id! }
        let at = DeliveryFixture.sendTime
        let journal = try DeliveryJournal(databasePath: database.path, runId: owner)
        try journal.started(claimed[0])
        journal.replied(claimed[0], DeliveryOutcome(letterId: claimed[0], result: .transient, code: 451, reply: "451 4.3.0 later", at: at))
        try journal.started(claimed[0])
        try journal.started(claimed[1])
        journal.replied(claimed[1], nil)
        try journal.started(claimed[1])
        let duplicates = try database.recoverAbandoned(now: at, policy: RetryPolicy(maxAttempts: 5, baseSeconds: 60, maxSeconds: 3600)) { _ in false }
        #expect(duplicates == 2)
        for letter in try fixture.letters() where claimed.contains(letter.id!) {
            #expect(letter.status == .queued && letter.possibleDuplicate && letter.attempts == 0, "\(letter)")
        }
        #expect(try fixture.attempts().isEmpty)
    }

    @Test("a journal that cannot be read (a folder in its place) marks all the dead run's letters, and goes; a line with an impossible time is no reply")
    func unreadableJournal() async throws {
        let fixture = try await DeliveryFixture(server: nil, url: "file:///nonexistent")
        let database = fixture.store.database
        let claimed = try database.claimDueLetters(
            ClaimRules(campaign: nil, limit: 4, now: DeliveryFixture.sendTime, perTargetPerHour: 0, owner: "4444-folder")).map { $0.letter.id! }
        let folder = DeliveryJournal.path(databasePath: database.path, runId: "4444-folder")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        #expect(try database.recoverAbandoned(now: DeliveryFixture.sendTime, policy: RetryPolicy(AppConfig().limits)) { _ in false } == 4)
        #expect(!FileManager.default.fileExists(atPath: folder))

        let more = try database.claimDueLetters(
            ClaimRules(campaign: nil, limit: 1, now: DeliveryFixture.sendTime, perTargetPerHour: 0, owner: "4545-nan")).map { $0.letter.id! }
        let journal = try DeliveryJournal(databasePath: database.path, runId: "4545-nan")
        try journal.started(more[0])
        let handle = try #require(FileHandle(forWritingAtPath: journal.path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("r\t\(more[0])\tsent\t250\t0\tnan\t250 Ok\n".utf8))
        try handle.close()
        #expect(try database.recoverAbandoned(now: DeliveryFixture.sendTime, policy: RetryPolicy(AppConfig().limits)) { _ in false } == 1)
        let letter = try #require(try fixture.letters().first { $0.id == more[0] })
        #expect(letter.status == .queued && letter.possibleDuplicate)
        _ = claimed
    }

    @Test("a start line that cannot be written (a full disk) is an error: the letter must not be handed over")
    func fullJournal() async throws {
        let store = try TestDatabase()
        let runs = store.database.path + ".runs"
        try FileManager.default.createDirectory(atPath: runs, withIntermediateDirectories: true)
        // Writes to /dev/full fail with "No space left on device"; the link, not the device, is removed after.
        try FileManager.default.createSymbolicLink(atPath: DeliveryJournal.path(databasePath: store.database.path, runId: "4646-full"),
                                                   withDestinationPath: "/dev/full")
        let journal = try DeliveryJournal(databasePath: store.database.path, runId: "4646-full")
        #expect(throws: AppealsError.self) { try journal.started(1) }
        journal.replied(1, nil)
        journal.remove()
        #expect(FileManager.default.fileExists(atPath: "/dev/full"))
    }

    @Test("a dead run that left only its journal (everything committed) has the journal removed and changes nothing")
    func staleJournalRemoved() async throws {
        let fixture = try await DeliveryFixture(server: nil, url: "file:///nonexistent")
        let database = fixture.store.database
        let before = try fixture.letters()
        let journal = try DeliveryJournal(databasePath: database.path, runId: "4343-cafebabe")
        try journal.started(before[0].id!)
        journal.replied(before[0].id!, DeliveryOutcome(letterId: before[0].id!, result: .sent, code: 250, reply: "250 Ok", at: DeliveryFixture.sendTime))
        #expect(try database.recoverAbandoned(now: DeliveryFixture.sendTime, policy: RetryPolicy(AppConfig().limits)) { _ in false } == 0)
        #expect(!FileManager.default.fileExists(atPath: journal.path))
        #expect(try fixture.letters() == before)
    }

    @Test("after a crash, the letters of a supporter erased meanwhile end cancelled, not failed, and are not sent")
    func erasedAfterCrash() async throws {
        let server = try SMTPTestServer()
        let fixture = try await DeliveryFixture(server: server)
        let claimed = try fixture.store.database.claimDueLetters(
            ClaimRules(campaign: nil, limit: 10, now: DeliveryFixture.sendTime, perTargetPerHour: 0, owner: "4242-deadbeef"))
        #expect(claimed.count == 10)
        let report = try fixture.store.database.eraseSupporter(email: "juergen@example.net", campaign: TestDatabase.slug)
        #expect(report.lettersCancelled == 5)
        let summary = try await fixture.send()
        #expect(summary.sent == 5 && summary.failed == 0 && summary.possibleDuplicates == 5)
        let letters = try fixture.letters()
        #expect(letters.filter { $0.status == .cancelled }.count == 5 && letters.filter { $0.status == .sent }.count == 5)
        #expect(try server.received().allSatisfy { $0.data.range(of: Data("juergen".utf8)) == nil })
    }

    @Test("a letter erased while it was being handed over, and accepted, is counted sent; one refused stays cancelled")
    func erasedInFlight() async throws {
        let fixture = try await DeliveryFixture(server: nil, url: "file:///nonexistent")
        let claimed = try fixture.store.database.claimDueLetters(
            ClaimRules(campaign: nil, limit: 10, now: DeliveryFixture.sendTime, perTargetPerHour: 0, owner: "run-1"))
        let juergen = try fixture.store.database.supporter(email: "juergen@example.net", campaign: TestDatabase.slug)
        let mine = claimed.filter { $0.letter.supporterId == juergen.id }.map { $0.letter.id! }
        #expect(try fixture.store.database.eraseSupporter(email: "juergen@example.net", campaign: TestDatabase.slug).lettersCancelled == 5)
        let policy = RetryPolicy(AppConfig().limits)
        let statuses = try fixture.store.database.record([
            DeliveryOutcome(letterId: mine[0], result: .sent, code: 250, reply: "250 2.0.0 Ok", at: DeliveryFixture.sendTime),
            DeliveryOutcome(letterId: mine[1], result: .permanent, code: 554, reply: "554 no", at: DeliveryFixture.sendTime),
        ], owner: "run-1", policy: policy)
        #expect(statuses == [mine[0]: .sent])
        let letters = try fixture.letters()
        #expect(letters.first { $0.id == mine[0] }?.status == .sent && letters.first { $0.id == mine[0] }?.attempts == 1)
        #expect(letters.first { $0.id == mine[1] }?.status == .cancelled)
        #expect(try fixture.store.database.report(campaign: TestDatabase.slug).letters.cancelled == 4)
    }

    @Test("a live run's letters are never taken by another run")
    func liveRunRespected() async throws {
        let server = try SMTPTestServer()
        let fixture = try await DeliveryFixture(server: server)
        let lease = try SendRunLease(databasePath: fixture.store.database.path)
        defer { lease.end() }
        _ = try fixture.store.database.claimDueLetters(
            ClaimRules(campaign: nil, limit: 4, now: DeliveryFixture.sendTime, perTargetPerHour: 0, owner: lease.id))
        let summary = try await fixture.send()
        #expect(summary.sent == 6 && summary.possibleDuplicates == 0)
        #expect(try fixture.letters().filter { $0.status == .sending && $0.claimedBy == lease.id }.count == 4)
        lease.end()
        // Once the run is gone, the next run recovers its letters.
        #expect(try await fixture.send().possibleDuplicates == 4)
        #expect(try fixture.letters().allSatisfy { $0.status == .sent })
    }

    @Test("perTargetPerHour: a target's mailbox is never flooded, the rest of the batch goes on")
    func perTargetPerHour() async throws {
        let server = try SMTPTestServer()
        var fixture = try await DeliveryFixture(server: server)
        fixture.config.limits.perTargetPerHour = 1
        let first = try await fixture.send()
        // Six targets, ten letters: one letter per target now, the officials' second letters later.
        #expect(first.sent == 6)
        #expect(first.waiting.outsideHoursOrLimit == 4 && first.waiting.total == 4)
        #expect(try await fixture.send(at: DeliveryFixture.sendTime.addingTimeInterval(1800)).sent == 0)
        #expect(try await fixture.send(at: DeliveryFixture.sendTime.addingTimeInterval(3601)).sent == 4)
    }

    @Test("a claim left short by hourly limits looks further down the queue")
    func claimLooksFurther() async throws {
        let fixture = try await DeliveryFixture(server: nil)
        // Due order: the first supporter's five letters, then the second's four officials (over the
        // limit already), then the second's embassy: the sixth letter to claim is the tenth in line.
        let claimed = try fixture.store.database.claimDueLetters(
            ClaimRules(campaign: nil, limit: 6, now: DeliveryFixture.sendTime, perTargetPerHour: 1, owner: "4242-deadbeef"))
        #expect(claimed.count == 6)
        #expect(Set(claimed.map(\.target.id)).count == 6)
        #expect(claimed.last?.target.kind == .embassy)
    }

    @Test("back-off grows exponentially from retryBaseSeconds, jittered, capped at retryMaxSeconds")
    func backOff() {
        let policy = RetryPolicy(maxAttempts: 8, baseSeconds: 60, maxSeconds: 3600)
        #expect(policy.delay(afterAttempt: 1, jitter: 0) == 60)
        #expect(policy.delay(afterAttempt: 2, jitter: 0) == 120)
        #expect(policy.delay(afterAttempt: 4, jitter: 0) == 480)
        #expect(policy.delay(afterAttempt: 4, jitter: 0.999) > 240 && policy.delay(afterAttempt: 4, jitter: 0.999) < 241)
        #expect(policy.delay(afterAttempt: 12, jitter: 0) == 3600)
        for attempt in 1...40 {
            for jitter in stride(from: 0.0, to: 1.0, by: 0.1) {
                let delay = policy.delay(afterAttempt: attempt, jitter: jitter)
                #expect(delay >= 60 && delay <= 3600)
            }
        }
    }

    @Test("the rate limiter spaces messages across workers")
    func rateLimiter() throws {
        final class FakeClock: @unchecked Sendable {
            let lock = NSLock()
            var now: TimeInterval = 100
            var slept: [TimeInterval] = []
        }
        let clock = FakeClock()
        let limiter = RateLimiter(perSecond: 4, clock: { clock.lock.withLock { clock.now } },
                                  sleep: { seconds in clock.lock.withLock { clock.slept.append(seconds) } })
        for _ in 0..<4 { try limiter.acquire() }
        #expect(clock.slept == [0.25, 0.5, 0.75])
    }
}
