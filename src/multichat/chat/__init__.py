"""What every chat platform preset shares, independent of any one platform's API."""
