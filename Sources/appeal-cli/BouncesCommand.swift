import Appeals
import AppealsPostgres
import ArgumentParser
import Foundation

struct BouncesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bounces", abstract: "Read bounce messages and act on them; list what was received.",
        subcommands: [Ingest.self, List.self, Show.self])

    struct Ingest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read bounces from a Maildir, an mbox file, or one message on standard input (-).",
            discussion: """
                Exit codes: 0 done (a message that cannot be read is stored with its problem, and the run goes \
                on); 75 (EX_TEMPFAIL) when the database cannot be written, the message stays waiting; 2 for bad \
                arguments. With -, only 0 or 75, as a mail system expects of a pipe: on any failure (a missing \
                config or database included) it keeps the message and tries again. See docs/bounces.md.
                """)
        @OptionGroup var options: GlobalOptions
        @Option(help: "A Maildir: its new messages are read and moved to cur/ flagged seen.") var maildir: String?
        @Option(help: "An mbox file: every message in it is read (again on a rerun, which changes nothing).") var mbox: String?
        @Argument(help: "- to read one message from standard input.") var standardInput: String?

        func validate() throws {
            let sources = [maildir != nil, mbox != nil, standardInput != nil].filter { $0 }.count
            if sources != 1 { throw ValidationError("give exactly one of --maildir DIR, --mbox FILE or -") }
            if let standardInput, standardInput != "-" { throw ValidationError("unexpected argument \(standardInput): use - for standard input") }
        }

        func run() async throws {
            if standardInput != nil { return try await ingestStandardInput() }
            let config = try options.loadConfig()
            let (maildir, mbox) = (maildir, mbox)
            // A locked or failing database: a cron job tries again.
            let summary = try await options.onBounceStore(config, storageExit: 75) { store throws(AppealsError) in
                let ingester = try BounceIngester(database: store, config: config)
                if let maildir {
                    return try ingester.ingest(maildir: try Maildir(path: maildir), each: Self.printResult)
                }
                return try ingester.ingest(mbox: mbox!, each: Self.printResult)
            }
            for (name, reason) in summary.skipped {
                printWarning("\(maildir ?? ""): \(terminalSafe(name)) not read, left in the Maildir: \(reason)")
            }
            printSummary(summary)
        }

        private func printSummary(_ summary: BounceIngester.Summary) {
            let classes = BounceClass.allCases.compactMap { kind in summary.byClass[kind].map { "\($0) \(kind.rawValue)" } }
            print("read \(plural(summary.read, "message")): \(classes.isEmpty ? "none new" : classes.joined(separator: ", "))"
                  + "; \(summary.actedOn) acted on"
                  + "\(summary.alreadyIngested > 0 ? "; \(summary.alreadyIngested) already ingested" : "")"
                  + "\(summary.skipped.isEmpty ? "" : "; \(summary.skipped.count) not read (named on standard error)")"
                  + "\(summary.problems > 0 ? "; \(plural(summary.problems, "message")) could not be read (kept: `appeal-cli bounces list`)" : "")")
        }

        /// One message from a mail system's pipe: read whole first, so the mail system never sees a broken pipe.
        private func ingestStandardInput() async throws {
            let (bytes, size) = readStandardInput(limit: InboundMessage.maxBytes)
            let environment = ProcessInfo.processInfo.environment
            // Postfix's local(8) and pipe(8) name the envelope recipient: the VERP address the bounce came to.
            let recipient = environment["ORIGINAL_RECIPIENT"] ?? environment["RECIPIENT"]
            do {
                let config = try options.loadConfig()
                let result = try await options.onBounceStore(config, storageExit: 75) { store throws(AppealsError) in
                    try BounceIngester(database: store, config: config)
                        .ingest(InboundMessage(bytes: bytes, size: size, source: "standard input", envelopeRecipient: recipient))
                }
                Self.printResult("standard input", result)
                var summary = BounceIngester.Summary()
                summary.add(result)
                printSummary(summary)
                // Stored: whatever happens to the output now, the mail system must not deliver it again.
                if let problem = StandardOutput.finish() {
                    writeStandardError("warning: the message is stored, but standard output failed: \(problem)\n")
                    StandardOutput.forgetFailure()
                }
            } catch let exit as ExitCode where exit != .success {
                // Whatever went wrong, the mail system must keep the message and try again.
                throw ExitCode(75)
            }
        }

        @Sendable private static func printResult(_ source: String, _ result: BounceIngestResult) {
            let problem = result.problem.map { " (\($0))" } ?? ""
            print(terminalSafe("\(source): \(result.bounceClass.rawValue)\(problem): \(result.outcome)"))
            // A long run killed midway still shows what it stored.
            StandardOutput.flush()
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the bounces received for a campaign, and those matched to none.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "The campaign's slug.") var campaign: String
        @Option(help: "Show at most this many messages, newest first.") var limit = 100
        @Flag(help: "One JSON array (its keys are listed in docs/reference.md).") var json = false

        func validate() throws {
            if limit < 1 { throw ValidationError("--limit must be at least 1") }
        }

        func run() async throws {
            let (campaign, limit) = (campaign, limit)
            let listings = try await options.onStore(sqlite: { database throws(AppealsError) in try database.bounces(campaign: campaign, limit: limit) },
                                                     postgres: { store throws(AppealsError) in try await store.bounces(campaign: campaign, limit: limit) })
            if json {
                print(OrderedJSON.array(listings.map(\.json)).text)
                return
            }
            if listings.isEmpty { print("no bounces received for \(campaign)") }
            let time = DateFormatter.utc("yyyy-MM-dd HH:mm:ss")
            for item in listings {
                let scope = item.campaign == nil ? "  [matched to no campaign]" : ""
                var lines = ["#\(item.id)  \(time.string(from: item.receivedAt)) UTC  \(item.bounceClass)  \(item.source)\(scope)"]
                if item.campaign == nil || item.reports.isEmpty {
                    lines.append("    from \(item.sender ?? "(no From)"), subject \(item.subject.map { "\"\($0)\"" } ?? "(none)")")
                }
                for report in item.reports {
                    let code = [report.status, report.diagnostic].compactMap { $0 }.joined(separator: " ")
                    lines.append("    \(report.recipient)  \(report.bounceClass)  \(code.prefix(160))")
                    lines.append("      → \(report.effect)")
                }
                if item.reports.isEmpty { lines.append("    → \(item.outcome)") }
                if let problem = item.problem, !item.outcome.contains(problem) { lines.append("    problem: \(problem)") }
                if item.kept { lines.append("    kept: `appeal-cli bounces show \(item.id)` prints it") }
                // What a bounce says is a stranger's text: no escape sequence of it reaches the terminal.
                for line in lines { print(terminalSafe(line)) }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a kept bounce message (one that matched no letter).",
            discussion: "Byte for byte into a file or a pipe; on a terminal, with its control characters shown as U+FFFD.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The message's number, as `bounces list` shows it.") var id: Int64

        func run() async throws {
            let id = id
            let raw = try await options.onStore(sqlite: { database throws(AppealsError) in try database.keptBounce(id: id) },
                                                postgres: { store throws(AppealsError) in try await store.keptBounce(id: id) })
            // A message from outside may carry escape sequences that a terminal would act on.
            guard isatty(STDOUT_FILENO) == 1 else { return StandardOutput.write(bytes: Array(raw)) }
            StandardOutput.write(MailText.printable(String(decoding: raw, as: UTF8.self)))
            printWarning("(control characters shown as \u{FFFD}; redirect to a file for the exact bytes)")
        }
    }
}

/// Standard input, at most `limit` bytes kept; the rest is read and counted.
func readStandardInput(limit: Int) -> (bytes: [UInt8], size: Int) {
    var bytes: [UInt8] = []
    var size = 0
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress!, $0.count) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { break }
        size += n
        if bytes.count < limit { bytes += chunk[0..<min(n, limit - bytes.count)] }
    }
    return (bytes, size)
}
