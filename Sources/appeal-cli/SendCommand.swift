import Appeals
import AppealsPostgres
import ArgumentParser
import Foundation
import Logging
import Mailer
import ServiceLifecycle
import Synchronization

struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send", abstract: "Deliver due letters; exit 3 when some were deferred or failed.",
        discussion: """
            SIGINT or SIGTERM stops a run cleanly: the messages on the wire finish and are recorded, the other \
            letters go back to the queue; exit 130 or 143 (0 with --watch). A second signal a second or more \
            later ends it at once.
            """)

    @OptionGroup var options: GlobalOptions
    @Option(help: "Only this campaign's letters (default: every active campaign).") var campaign: String?
    @Option(help: "Send at most this many letters.") var limit: Int?
    @Flag(help: "Build and check every due message; send nothing, change nothing.") var dryRun = false
    @Option(help: "Send one sample letter per target to this address only, subject prefixed [TEST]; no status changes.") var testTo: String?
    @Flag(help: "Print the summary as one JSON object (for scripts).") var json = false
    @Flag(help: "Keep running: send letters as they become due, until SIGTERM or SIGINT (a service).") var watch = false
    @Option(help: "With --watch, look for newly due letters at least this often, in seconds (1 to 3600, default 10).") var pollSeconds: Int?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if testTo != nil && campaign == nil { throw ValidationError("--test-to needs --campaign") }
        if testTo != nil && dryRun { throw ValidationError("--test-to and --dry-run do not go together") }
        if watch && (dryRun || testTo != nil || limit != nil || json) {
            throw ValidationError("--watch does not go with --dry-run, --test-to, --limit or --json")
        }
        if let pollSeconds {
            if !watch { throw ValidationError("--poll-seconds goes with --watch") }
            if pollSeconds < 1 || pollSeconds > 3600 { throw ValidationError("--poll-seconds must be between 1 and 3600") }
        }
    }

    func run() async throws {
        let config = try options.loadConfig()
        guard config.usesPostgres else {
            let database = try options.openDatabase()
            try await send(store: database, config: config, transport: try reporting { () throws(AppealsError) in try config.makeTransport() })
            return
        }
        let transport = try reporting { () throws(AppealsError) in try config.makeTransport() }
        let command = self
        // Claims, commits and the lease's, and one per SMTP connection and one more for the run's notes.
        let failure = try await options.withPostgres(config, connections: 3 + config.smtp.connections + 1) { store throws(AppealsError) -> (any Error)? in
            do {
                try await command.send(store: PostgresDeliveryStore(store), config: config, transport: transport)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    /// The command itself, on either store.
    private func send(store: any DeliveryStore, config: AppConfig, transport: any MailTransport) async throws {
        let progress = ProgressBar()
        let dispatcher = Dispatcher(store: store, config: config, transport: transport, progress: { done, total in
            progress.show(done: done, total: total)
        })
        if let campaign {
            let named = try await reporting { () async throws(AppealsError) in
                try await ThreadExecutor.run(name: "appeal-db") { () throws(AppealsError) in try store.campaignToSend(campaign) }
            }
            // A service waits for the campaign to open; a one-off run has nothing to do.
            if named.status == .paused && testTo == nil && !dryRun && !watch {
                print("campaign \(campaign) is paused: nothing sent (appeal-cli campaign open \(campaign) to resume)")
                return
            }
        }
        if let testTo, let campaign {
            try await sendTests(dispatcher, campaign: campaign, to: testTo)
            return
        }
        if watch {
            try await runService(store: store, config: config, transport: transport)
            return
        }
        let campaign = campaign
        for late in try await reporting({ () async throws(AppealsError) in
            try await ThreadExecutor.run(name: "appeal-db") { () throws(AppealsError) in try store.activeCampaignsPastDeadline(slug: campaign, now: Date()) }
        }) {
            printWarning("warning: campaign \(late.slug)'s deadline \(late.deadline!) has passed; its letters already queued are still sent (pause or close it to stop them)")
        }
        let started = Date()
        let options = SendOptions(campaign: campaign, limit: limit, dryRun: dryRun)
        let running = Task { () async -> Result<SendSummary, AppealsError> in
            do throws(AppealsError) { return .success(try await dispatcher.run(options)) } catch { return .failure(error) }
        }
        // Only a real run stops cleanly: a dry run changes nothing and may simply die.
        let signals = dryRun ? nil : await StopSignals { _ in running.cancel() }
        let summary = try await reporting { () async throws(AppealsError) in try await running.value.get() }
        progress.finish()
        let seconds = Date().timeIntervalSince(started)
        if dryRun && json {
            print(OrderedJSON.object([("dryRun", .bool(true)), ("checked", .int(summary.checked)), ("failed", .int(summary.failed))]).text)
            if summary.failed > 0 { throw ExitCode(3) }
            return
        }
        if dryRun {
            print("dry run: \(summary.checked) messages built and checked, \(summary.failed) could not be built; nothing sent")
            if summary.failed > 0 { throw ExitCode(3) }
            return
        }
        if json {
            print(Self.json(summary, seconds: seconds).text)
        } else {
            printSummary(summary, seconds: seconds)
        }
        if summary.interrupted, let signals, let code = signals.exitCode {
            printError("interrupted by \(signals.caught == SIGINT ? "SIGINT" : "SIGTERM"): letters on the wire were finished and recorded; the others stay queued")
            throw ExitCode(code)
        }
        if let reason = summary.stopped {
            printError("sending stopped, remaining letters stay queued: \(reason)")
            throw ExitCode(summary.stoppedForConfiguration ? 2 : 1)
        }
        if summary.deferred + summary.failed > 0 { throw ExitCode(3) }
    }

    /// The summary for a person: what was done, then what still waits and why.
    private func printSummary(_ summary: SendSummary, seconds: Double) {
        let rate = seconds > 0 ? Double(summary.attempted) / seconds : 0
        print("sent \(summary.sent), deferred \(summary.deferred), failed \(summary.failed), possible duplicates \(summary.possibleDuplicates)"
              + String(format: " (%.1f s, %.1f letters/s)", seconds, rate))
        let waiting = summary.waiting
        func verb(_ count: Int, _ one: String, _ many: String) -> String { count == 1 ? one : many }
        if waiting.outsideHoursOrLimit > 0 {
            let why = summary.interrupted ? "the next run (this one was interrupted)"
                : summary.stopped != nil ? "the next run (this one stopped)"
                : summary.reachedLimit ? "the next run (this one stopped at --limit)"
                : "their targets' sending hours or hourly limit, or another sender has them; a later run sends them"
            print("\(plural(waiting.outsideHoursOrLimit, "letter")) \(verb(waiting.outsideHoursOrLimit, "waits", "wait")) for \(why)")
        }
        if waiting.backingOff > 0, let next = waiting.nextRetry {
            print("\(plural(waiting.backingOff, "deferred letter")) \(verb(waiting.backingOff, "waits", "wait")) after a failed attempt; the first is due again at \(ISO8601DateFormatter().string(from: next))")
        }
        if waiting.heldByDisabledTargets > 0 {
            print("\(plural(waiting.heldByDisabledTargets, "letter")) \(verb(waiting.heldByDisabledTargets, "is", "are")) held behind disabled targets (appeal-cli status shows which; target enable lets them go)")
        }
        if waiting.heldByOtherRuns > 0 {
            print("\(plural(waiting.heldByOtherRuns, "letter")) \(verb(waiting.heldByOtherRuns, "is", "are")) held by another send run: "
                  + "being sent, or, if that run stopped, settled by a later run")
        }
        if waiting.inPausedCampaigns > 0 {
            print("\(plural(waiting.inPausedCampaigns, "letter")) \(verb(waiting.inPausedCampaigns, "waits", "wait")) in paused campaigns (appeal-cli campaign open SLUG)")
        }
        if summary.refusedCopies > 0 {
            printWarning("\(plural(summary.refusedCopies, "copy", "copies")) to supporters refused by the server (recorded on the letters; the officials' copies went out)")
        }
        for email in summary.disabledTargets { printWarning("target \(email) disabled: its mailbox does not exist") }
    }

    /// The summary as one JSON object, for scripts.
    static func json(_ summary: SendSummary, seconds: Double) -> OrderedJSON {
        let waiting = summary.waiting
        return .object([
            ("sent", .int(summary.sent)), ("deferred", .int(summary.deferred)), ("failed", .int(summary.failed)),
            ("possibleDuplicates", .int(summary.possibleDuplicates)), ("refusedCopies", .int(summary.refusedCopies)),
            ("disabledTargets", .array(summary.disabledTargets.map(OrderedJSON.string))),
            ("stopped", summary.stopped.map(OrderedJSON.string) ?? .null),
            ("waiting", .object([
                ("outsideSendingHoursOrLimit", .int(waiting.outsideHoursOrLimit)), ("backingOff", .int(waiting.backingOff)),
                ("nextRetryAt", waiting.nextRetry.map { .string(ISO8601DateFormatter().string(from: $0)) } ?? .null),
                ("heldByDisabledTargets", .int(waiting.heldByDisabledTargets)), ("inPausedCampaigns", .int(waiting.inPausedCampaigns)),
                ("heldByOtherRuns", .int(waiting.heldByOtherRuns)),
            ])),
            ("seconds", .int(Int(seconds.rounded()))),
        ])
    }

    /// `--watch`: the sender as a service, stopped by SIGTERM or SIGINT (exit 0 once the letters on the wire
    /// are recorded); a second signal ends it at once.
    private func runService(store: any DeliveryStore, config: AppConfig, transport: any MailTransport) async throws {
        let logger = ServiceRunner.logger("appeal.send", verbose: options.verbose)
        let presence = try ServiceRunner.presence(on: store)
        defer { presence?.end() }
        let service = try await ServiceRunner.sender(store: store, config: config, transport: transport, campaign: campaign,
                                               pollSeconds: pollSeconds ?? 10, logger: logger)
        try await ServiceRunner.run([service], logger: logger)
    }

    private func sendTests(_ dispatcher: Dispatcher, campaign: String, to address: String) async throws {
        let (results, missing) = try await reporting { () async throws(AppealsError) in try await dispatcher.sendTests(campaign: campaign, to: address) }
        var failures = 0
        for result in results {
            let accepted = result.reply.kind == .accepted
            if !accepted { failures += 1 }
            print("\(accepted ? "sent" : "FAILED") [TEST] for \(result.target.name) <\(result.target.email)> to \(address): \(result.reply.text)")
        }
        for target in missing { print("no letter queued yet for \(target.name): run `appeal-cli queue --campaign \(campaign)` first") }
        print("sent \(plural(results.count - failures, "test letter")) to \(address), \(failures) failed; no letter's status changed")
        if let stop = results.last?.reply.kind, case .stopRun(let reason) = stop {
            printError("sending stopped: \(results.last!.reply.text)")
            throw ExitCode(reason == .configuration ? 2 : 1)
        }
        if failures > 0 { throw ExitCode(3) }
    }
}

/// A one-line progress bar on standard error, drawn only when it is a terminal.
final class ProgressBar: Sendable {
    private let enabled = isatty(STDERR_FILENO) == 1
    private let drawn = Atomic<Bool>(false)

    func show(done: Int, total: Int) {
        guard enabled, total > 0 else { return }
        let width = 30
        let filled = min(width, done * width / total)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        writeStandardError("\r[\(bar)] \(done)/\(total)")
        drawn.store(true, ordering: .relaxed)
    }

    func finish() {
        if drawn.load(ordering: .relaxed) { writeStandardError("\n") }
    }
}
