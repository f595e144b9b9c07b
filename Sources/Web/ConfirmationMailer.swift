import Appeals
import AsyncAlgorithms
import Foundation
import Logging
import Mailer
import ServiceLifecycle

/// Sends the confirmation emails of the outbox through the configured transport, as a service beside the web
/// server: woken when a submission stores one, and every few seconds for retries. An email leaves the outbox
/// only once the transport took it (or refused it for good), so a restart loses none.
public struct ConfirmationMailer: Service {
    let store: any WebStore
    let transport: any MailTransport
    let wakeups: AsyncStream<Void>
    let logger: Logger
    let pollInterval: Duration

    /// Tells the mailer an email is waiting.
    public let wake: @Sendable () -> Void

    public init(store: any WebStore, transport: any MailTransport, logger: Logger, pollInterval: Duration = .seconds(5)) {
        self.store = store
        self.transport = transport
        self.logger = logger
        self.pollInterval = pollInterval
        // One waiting wake-up is enough: the mailer sends everything due when it wakes.
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        wakeups = stream
        wake = { continuation.yield() }
    }

    public func run() async {
        // libcurl blocks: on a thread of their own.
        let executor = ThreadExecutor(name: "appeal-confirmations")
        defer { executor.shutdown() }
        await withTaskExecutorPreference(executor) {
            let session = transport.makeSession()
            defer { session.close() }
            var nextPurge = ContinuousClock.now
            let ticks = merge(wakeups, AsyncTimerSequence(interval: pollInterval, clock: .continuous).map { _ in () })
            await sendLogged(session)
            for await _ in ticks.cancelOnGracefulShutdown() {
                await sendLogged(session)
                if ContinuousClock.now > nextPurge {
                    do {
                        _ = try await store.purgeExpiredSubmissions(now: Date())
                        nextPurge = ContinuousClock.now + .seconds(600)
                    } catch {
                        if Task.isCancelled || Task.isShuttingDownGracefully { break }
                        logger.error("cannot purge expired submissions; trying again later", metadata: ["error": "\(error)"])
                    }
                }
            }
        }
    }

    /// A database that is locked or full for a while stops the mailer only until the next tick: the web
    /// server goes on, and the emails wait in the outbox.
    private func sendLogged(_ session: any MailSession) async {
        do {
            try await sendDue(session)
        } catch {
            // A use cut short because the server is stopping is no failure of the database.
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
            logger.error("confirmation emails: cannot use the database; trying again in a few seconds", metadata: ["error": "\(error)"])
        }
    }

    /// Sends every email due now, a batch at a time. Each email leaves the outbox as soon as it is handed over
    /// (or refused for good): a server that dies meanwhile leaves at most the one on the wire to be sent again
    /// by another, once the emails it took are free again.
    private func sendDue(_ session: any MailSession) async throws(AppealsError) {
        while !Task.isShuttingDownGracefully {
            let due = try await store.takeDueOutbox(now: Date(), limit: 100)
            for email in due {
                let reply = session.deliver(Array(email.message), envelope: Envelope(from: email.envelopeFrom, recipients: [email.recipient]))
                switch reply.kind {
                case .accepted:
                    try await store.removeFromOutbox([email.id!])
                case .permanent:
                    logger.warning("confirmation email refused", metadata: ["code": "\(reply.code ?? 0)", "reply": "\(reply.text)"])
                    try await store.removeFromOutbox([email.id!])
                default:
                    // Tried again after 1, 2, 4 … minutes, at most an hour apart; given up after a day's tries.
                    let wait = min(3600, 60 * pow(2, Double(email.attempts)))
                    if email.attempts >= 30 {
                        logger.error("confirmation email given up", metadata: ["reply": "\(reply.text)"])
                        try await store.removeFromOutbox([email.id!])
                    } else {
                        logger.warning("confirmation email deferred", metadata: ["reply": "\(reply.text)", "retryInSeconds": "\(Int(wait))"])
                        try await store.deferOutbox(email.id!, until: Date().addingTimeInterval(wait))
                    }
                }
            }
            if due.count < 100 { return }
        }
    }
}
