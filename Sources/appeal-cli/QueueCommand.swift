import Appeals
import ArgumentParser

struct QueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue", abstract: "Render and queue every missing letter of a campaign; running it again adds nothing.")

    @OptionGroup var options: GlobalOptions
    @Option(help: "The campaign's slug.") var campaign: String

    func run() throws {
        let config = try options.loadConfig()
        let database = try options.openDatabase()
        let report = try reporting { () throws(AppealsError) in
            try database.queueLetters(campaign: campaign, messageIDs: MessageIDGenerator(domain: config.sender.domain), waiting: {
                printWarning("another queue run is writing to \(database.path); waiting for it to finish")
            })
        }
        print("queued \(report.queued) letters (\(report.alreadyQueued) already queued) for \(report.supporters) supporters of \(campaign)")
        if report.supportersWithoutEmbassy > 0 {
            print("\(report.supportersWithoutEmbassy) supporters have no embassy in their country: they write to the officials only")
        }
        if report.supportersWithoutConsent > 0 {
            print("\(report.supportersWithoutConsent) supporters did not consent: no letter is written in their name")
        }
    }
}
