export default {
  network: 'Network problem: check the connection and retry',
  rate_limited: 'Too many requests: try again shortly',
  auth: {
    invalid_credentials: 'Wrong username or password',
    locked: 'The account is locked for 15 minutes',
    totp_required: 'Enter the authenticator code',
    totp_enrollment_required: 'Administrators must use two-factor login: ask for baodan users totp',
    required: 'Sign in first',
    forbidden: 'You may not do this',
    csrf: 'Session check failed: reload the page',
  },
  users: { weak_password: 'Weak password: at least 10 characters, different from the current one' },
  export: { daily_cap: "Today's export allowance is used up" },
  request: { not_found: 'Not found, or not yours to see' },
  orders: { not_found: 'Order not found, or not yours to see' },
}
