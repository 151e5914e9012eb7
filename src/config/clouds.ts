// Apart from deploy.ts, which loads the schema library: `cmg deploy` names the clouds in its flags, read at every start.

/** The Azure clouds `--cloud` and `cloud` name: where ARM and Entra ID are. */
export const CLOUDS = {
  AzureCloud: {
    arm: 'https://management.azure.com',
    authority: 'https://login.microsoftonline.com',
    dnsSuffix: 'cloudapp.azure.com',
  },
  AzureUSGovernment: {
    arm: 'https://management.usgovcloudapi.net',
    authority: 'https://login.microsoftonline.us',
    dnsSuffix: 'cloudapp.usgovcloudapi.net',
  },
  AzureChinaCloud: {
    arm: 'https://management.chinacloudapi.cn',
    authority: 'https://login.chinacloudapi.cn',
    dnsSuffix: 'cloudapp.chinacloudapi.cn',
  },
} as const;
export type CloudName = keyof typeof CLOUDS;
