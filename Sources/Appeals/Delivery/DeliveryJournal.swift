import Foundation

/// A send run's record of what it handed to the server and what the server said, one line per event: a
/// letter's start before it goes out, with the session's previous reply in the same `write(2)` (a reply is
/// also committed to the database within a tenth of a second; a session holds either a letter on the wire or
/// one reply not yet written, never both).
///
/// The database learns a run's outcomes in batches (a commit per message would cost an fsync each); the
/// journal closes the gap. Each line is one `write(2)` to a file opened with `O_APPEND`, in the kernel's
/// page cache as soon as the call returns, so it survives the process however it dies (SIGKILL included;
/// a power loss is another matter, as for any MTA that does not fsync per message). A later run replays a
/// dead run's journal: replies are recorded as if the dead run had committed them, letters never handed
/// over go back to the queue silently, and only letters handed over without a reply are possible
/// duplicates — at most one per connection.
///
/// Lines: `s <letter>` (handed to the server), `r <letter> <result> <code> <disables> <unix time> <reply>`,
/// tab-separated. A torn last line (the process died mid-write) is ignored. A start line that cannot be
/// written (a full disk) stops the run before that letter is handed over.
public final class DeliveryJournal: SendJournal {
    public let path: String
    /// Immutable after `init`; writes are single `write(2)` calls, which the kernel orders on its own.
    private let descriptor: Int32

    /// Creates the journal of run `runId` beside the database.
    /// - Throws: ``AppealsError/storage(_:)`` when the file cannot be created.
    public init(databasePath: String, runId: String) throws(AppealsError) {
        path = Self.path(databasePath: databasePath, runId: runId)
        descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw .storage("cannot create the send journal \(path): \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(descriptor) }

    /// Notes that the letter is about to be handed to the server.
    /// - Throws: ``AppealsError/storage(_:)`` when the line cannot be written (a full disk): the letter must
    ///   then not be handed over, since a crash would leave nobody to know it went.
    public func started(_ letterId: Int64) throws(AppealsError) {
        try started(letterId, after: nil)
    }

    /// Notes the server's reply to a letter (or that it was not handed over after all: `result == nil`).
    public func replied(_ letterId: Int64, _ outcome: DeliveryOutcome?) {
        // A line that cannot be written is not fatal: without it, a crash marks the letter as a possible duplicate.
        _ = append(Self.replyLine(letterId, outcome))
    }

    /// The previous letter's reply and this one's start in one `write(2)`.
    public func started(_ letterId: Int64, after reply: (letterId: Int64, outcome: DeliveryOutcome?)?) throws(AppealsError) {
        if let problem = append((reply.map { Self.replyLine($0.letterId, $0.outcome) } ?? "") + "s\t\(letterId)\n") {
            throw .storage("cannot write to the send journal \(path): \(problem); the run stops, its letters stay queued")
        }
    }

    private static func replyLine(_ letterId: Int64, _ outcome: DeliveryOutcome?) -> String {
        guard let outcome else { return "r\t\(letterId)\tuntried\n" }
        let reply = String(String.UnicodeScalarView(outcome.reply.unicodeScalars.map { $0 == "\t" || $0 == "\n" || $0 == "\r" ? " " : $0 }))
        return "r\t\(letterId)\t\(outcome.result.journalName)\t\(outcome.code.map(String.init) ?? "-")\t\(outcome.disablesTarget ? 1 : 0)\t\(outcome.at.timeIntervalSince1970)\t\(reply)\n"
    }

    /// Removes the journal once everything it says is in the database.
    public func remove() {
        unlink(path)
    }

    /// Writes `line` whole; returns what went wrong, if it could not.
    private func append(_ line: String) -> String? {
        var line = line
        return line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return written < 0 ? String(cString: strerror(errno)) : "nothing written" }
                offset += written
            }
            return nil
        }
    }

    /// Where the journal of run `runId` lives, beside its lock.
    public static func path(databasePath: String, runId: String) -> String {
        "\(SendRunLease.folder(for: databasePath))/\(runId).journal"
    }
}

/// What a dead run's journal says about the letters it still held, and what becomes of them: its replies are
/// recorded, letters handed over without a reply are possible duplicates, and the rest were never handed over.
public struct JournalReplay: Sendable {
    /// Letters handed to the server.
    public private(set) var started: Set<Int64> = []
    /// Replies, by letter.
    public private(set) var outcomes: [Int64: DeliveryOutcome] = [:]
    /// Letters taken back before they were handed over.
    public private(set) var untried: Set<Int64> = []

    /// The replies to record, in letter order.
    public var replies: [DeliveryOutcome] { outcomes.values.sorted { $0.letterId < $1.letterId } }

    /// Letters handed over with no reply noted: they may have gone out, and are sent again marked as possible
    /// duplicates.
    public var unanswered: [Int64] { started.subtracting(untried).subtracting(outcomes.keys).sorted() }

    /// Reads the journal at `path` a block at a time, keeping only the lines about `letters` (a run that
    /// sent half a million letters leaves a long journal; only the few it had not committed matter). A last
    /// line without its newline was being written when the run died, and is left out.
    /// - Returns: `nil` when there is no journal, or it cannot be read.
    init?(path: String, letters: Set<Int64>) {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        var carry: [UInt8] = []
        while true {
            let block: Data
            do {
                guard let read = try handle.read(upToCount: 1 << 20), !read.isEmpty else { break }
                block = read
            } catch {
                return nil
            }
            carry += block
            guard let lastNewline = carry.lastIndex(of: UInt8(ascii: "\n")) else { continue }
            for line in carry[..<lastNewline].split(separator: UInt8(ascii: "\n")) { take(line, letters: letters) }
            carry.removeSubrange(...lastNewline)
        }
    }

    public init() {}

    /// The events of one letter, in the order the run noted them. A run may hand the same letter over more than
    /// once (deferred, then due again; given back, then claimed again): only what it noted after the latest
    /// hand-over is about the attempt that may be on the wire.
    public mutating func noteStarted(_ letterId: Int64) {
        started.insert(letterId)
        outcomes[letterId] = nil
        untried.remove(letterId)
    }

    public mutating func noteUntried(_ letterId: Int64) {
        untried.insert(letterId)
    }

    public mutating func note(_ outcome: DeliveryOutcome) {
        outcomes[outcome.letterId] = outcome
    }

    private mutating func take(_ line: ArraySlice<UInt8>, letters: Set<Int64>) {
        let fields = line.split(separator: UInt8(ascii: "\t"), maxSplits: 6, omittingEmptySubsequences: false)
        guard fields.count >= 2, let id = Int64(String(decoding: fields[1], as: UTF8.self)), letters.contains(id) else { return }
        switch (fields[0].first, fields.count) {
        case (UInt8(ascii: "s"), 2):
            noteStarted(id)
        case (UInt8(ascii: "r"), 3) where String(decoding: fields[2], as: UTF8.self) == "untried":
            noteUntried(id)
        case (UInt8(ascii: "r"), 7):
            guard let result = DeliveryResult(journalName: String(decoding: fields[2], as: UTF8.self)),
                  let seconds = Double(String(decoding: fields[5], as: UTF8.self)), seconds.isFinite, seconds > 0, seconds < 1e11
            else { return }
            let code = fields[3].elementsEqual("-".utf8) ? nil : Int(String(decoding: fields[3], as: UTF8.self))
            note(DeliveryOutcome(letterId: id, result: result, code: code, reply: String(decoding: fields[6], as: UTF8.self),
                                 at: Date(timeIntervalSince1970: seconds), disablesTarget: fields[4].first == UInt8(ascii: "1")))
        default:
            return
        }
    }
}

extension DeliveryResult {
    /// The result's name in a send run's journal.
    public var journalName: String {
        switch self {
        case .sent: "sent"
        case .transient: "transient"
        case .permanent: "permanent"
        case .unknown: "unknown"
        }
    }

    public init?(journalName: String) {
        switch journalName {
        case "sent": self = .sent
        case "transient": self = .transient
        case "permanent": self = .permanent
        case "unknown": self = .unknown
        default: return nil
        }
    }
}
