"""Platform adapters (one sub-package per platform) behind the contract in `baodan.channels.base`."""
