"""The console's modal dialogs: forms that send one service call and show its answer."""
