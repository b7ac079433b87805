import ANNCommands

ToolRunner.main(GroundTruthCommand.self)
