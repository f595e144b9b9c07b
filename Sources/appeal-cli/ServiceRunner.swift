import Appeals
import ArgumentParser
import Foundation
import Logging
import Mailer
import ServiceLifecycle
import Synchronization

/// The long-running commands (`send --watch`, `serve`): their services, run in one group until SIGTERM or SIGINT.
enum ServiceRunner {
    static func logger(_ label: String, verbose: Bool) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = verbose ? .debug : .info
        return logger
    }

    /// The sender of `send --watch`, logging a line every 1,000 letters within a long run.
    static func sender(store: any DeliveryStore, config: AppConfig, transport: any MailTransport, campaign: String?, pollSeconds: Int,
                       logger: Logger) async throws -> SendService {
        let previous = Mutex(0)
        let dispatcher = Dispatcher(store: store, config: config, transport: transport, logger: logger, progress: { done, total in
            let crossed = previous.withLock { previous in
                // A count lower than the last one is a new run's.
                defer { previous = done }
                return done / 1000 > (done < previous ? 0 : previous / 1000)
            }
            if crossed { logger.notice("run in progress", metadata: ["done": "\(done)", "due": "\(total)"]) }
        })
        for late in try await reporting({ () async throws(AppealsError) in
            try await ThreadExecutor.run(name: "appeal-db") { () throws(AppealsError) in try store.activeCampaignsPastDeadline(slug: campaign, now: Date()) }
        }) {
            logger.warning("campaign \(late.slug)'s deadline \(late.deadline!) has passed; its letters already queued are still sent (pause or close it to stop them)")
        }
        return SendService(dispatcher: dispatcher, options: SendOptions(campaign: campaign), pollInterval: .seconds(pollSeconds), logger: logger)
    }

    /// A service on the SQLite file (`send --watch`, `serve`) says so for as long as it runs, busy or idle, with
    /// a lease of its own beside the file: `db copy` refuses to copy a file that a sender may still change.
    static func presence(on store: any DeliveryStore) throws -> SendRunLease? {
        guard let database = store as? AppDatabase else { return nil }
        return try reporting { () throws(AppealsError) in try SendRunLease(databasePath: database.path) }
    }

    /// Runs `services` until the first SIGTERM or SIGINT has stopped them gracefully (a second one ends the
    /// process at once); exit 1 when a service fails.
    /// - Parameter explain: a message and exit code for errors a person can fix, printed instead of the raw error.
    static func run(_ services: [any Service], logger: Logger,
                    explain: (any Error) -> (message: String, code: Int32)? = { _ in nil }) async throws {
        let group = ServiceGroup(services: services, logger: logger)
        let signals = await StopSignals { number in
            logger.info("stopping: letters on the wire finish and are recorded", metadata: ["signal": "\(number == SIGINT ? "SIGINT" : "SIGTERM")"])
            Task { await group.triggerGracefulShutdown() }
        }
        do {
            try await group.run()
        } catch {
            if let (message, code) = explain(error) {
                printError(message)
                throw ExitCode(code)
            }
            let reason = (error as? ServiceGroupError).map { "\($0)" } ?? "\(error)"
            printError(reason)
            throw ExitCode(1)
        }
        _ = signals
    }
}
